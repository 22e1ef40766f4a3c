"""Reading the event log in id order."""

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lectern.events.rules import LoggedEvent, Viewer, visible_to
from lectern.models import Event
from lectern.platform.prepared import Prepared

_COLUMNS = (
    Event.id,
    Event.type,
    Event.institution_id,
    Event.user_id,
    Event.course_id,
    Event.audience,
    Event.payload,
    Event.created_at,
)


# The pump runs it on every drain.
_BETWEEN = Prepared(
    select(*_COLUMNS)
    .where(Event.id > bindparam("after"), Event.id <= bindparam("upto"))
    .order_by(Event.id)
    .limit(bindparam("limit"))
)


def _logged(row: Any) -> LoggedEvent:
    return LoggedEvent(
        id=row.id,
        type=row.type,
        institution_id=row.institution_id,
        user_id=row.user_id,
        audience=row.audience,
        course_id=row.course_id,
        payload=row.payload,
        created_at=row.created_at,
    )


async def read_between(
    connection: AsyncConnection, after: int, upto: int, limit: int
) -> list[LoggedEvent]:
    """Events with after < id <= upto, oldest first."""
    found = await _BETWEEN.all(connection, {"after": after, "upto": upto, "limit": limit})
    return [_logged(row) for row in found]


async def read_for(
    connection: AsyncConnection, viewer: Viewer, after: int, upto: int, limit: int
) -> list[LoggedEvent]:
    """What `viewer` may see with after < id <= upto, oldest first."""
    query = (
        select(*_COLUMNS)
        .where(visible_to(viewer), Event.id > after, Event.id <= upto)
        .order_by(Event.id)
        .limit(limit)
    )
    return [_logged(row) for row in (await connection.execute(query)).all()]


async def last_id(connection: AsyncConnection, upto: int) -> int:
    """The newest event id at or below `upto`, or 0."""
    newest = await connection.scalar(select(func.max(Event.id)).where(Event.id <= upto))
    return int(newest or 0)
