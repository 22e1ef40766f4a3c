"""Reading the event log in `(xact_id, id)` order."""

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.rules import (
    LEARNER_AUDIENCES,
    ORIGIN,
    STAFF_AUDIENCES,
    LoggedEvent,
    Position,
    Viewer,
)
from lectern.models import Event
from lectern.models.events import xact_horizon

_COLUMNS = (
    Event.id,
    Event.xact_id,
    Event.type,
    Event.institution_id,
    Event.user_id,
    Event.audience,
    Event.payload,
    Event.created_at,
)


def _logged(row: Any) -> LoggedEvent:
    return LoggedEvent(
        id=row.id,
        xact_id=row.xact_id,
        type=row.type,
        institution_id=row.institution_id,
        user_id=row.user_id,
        audience=row.audience,
        payload=row.payload,
        created_at=row.created_at,
    )


def _after(position: Position) -> ColumnElement[bool]:
    return tuple_(Event.xact_id, Event.id) > tuple_(literal(position[0]), literal(position[1]))


def _ordered(query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
    return query.order_by(Event.xact_id, Event.id)


async def read_after(
    session: AsyncSession, position: Position, limit: int
) -> tuple[list[LoggedEvent], bool]:
    """The settled events after `position`, and whether unsettled ones (committed by a
    transaction younger than one still running) are waiting behind them."""
    settled = (Event.xact_id < xact_horizon()).label("settled")
    rows = (
        await session.execute(
            _ordered(select(*_COLUMNS, settled).where(_after(position))).limit(limit)
        )
    ).all()
    events = [_logged(row) for row in rows if row.settled]
    return events, len(events) < len(rows)


async def read_for(
    session: AsyncSession, viewer: Viewer, after: Position, upto: Position, limit: int
) -> list[LoggedEvent]:
    """What `viewer` may see in (after, upto], oldest first."""
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
    upper = tuple_(Event.xact_id, Event.id) <= tuple_(literal(upto[0]), literal(upto[1]))
    query = _ordered(select(*_COLUMNS).where(visible, _after(after), upper)).limit(limit)
    return [_logged(row) for row in (await session.execute(query)).all()]


async def position_of(session: AsyncSession, event_id: int) -> Position:
    """Where event `event_id` stands; for an id not in the log, the nearest event below it."""
    row = (
        await session.execute(
            select(Event.xact_id, Event.id)
            .where(Event.id <= event_id)
            .order_by(Event.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else ORIGIN


async def head(session: AsyncSession) -> Position:
    """The last settled position: everything up to it is final."""
    row = (
        await session.execute(
            select(Event.xact_id, Event.id)
            .where(Event.xact_id < xact_horizon())
            .order_by(Event.xact_id.desc(), Event.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else ORIGIN
