"""Reading the event log in id order."""

from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from lectern.events.rules import LEARNER_AUDIENCES, STAFF_AUDIENCES, LoggedEvent, Viewer
from lectern.models import Event
from lectern.prepared import Prepared

_COLUMNS = (
    Event.id,
    Event.type,
    Event.institution_id,
    Event.user_id,
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
    if viewer.is_staff:
        visible = and_(
            Event.institution_id == viewer.institution_id,
            Event.audience.in_(STAFF_AUDIENCES),
        )
    else:
        visible = and_(
            Event.user_id == viewer.user_id,
            Event.institution_id == viewer.institution_id,
            Event.audience.in_(LEARNER_AUDIENCES),
        )
    query = (
        select(*_COLUMNS)
        .where(visible, Event.id > after, Event.id <= upto)
        .order_by(Event.id)
        .limit(limit)
    )
    return [_logged(row) for row in (await connection.execute(query)).all()]


async def last_id(connection: AsyncConnection, upto: int) -> int:
    """The newest event id at or below `upto`, or 0."""
    newest = await connection.scalar(select(func.max(Event.id)).where(Event.id <= upto))
    return int(newest or 0)
