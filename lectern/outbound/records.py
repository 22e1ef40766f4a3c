"""The rows of outbound delivery: claiming a due destination, reading its events, recording
an attempt's outcome and keeping the record of deliveries short."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from lectern.events.rules import LoggedEvent
from lectern.models import Event, OutboundDelivery, OutboundDestination
from lectern.models.base import utcnow
from lectern.models.outbound import DeliveryStatus, DestinationStatus

# Delivery attempts kept per destination: the newest, for its admins to read.
KEPT_DELIVERIES = 1000
ERROR_LIMIT = 1000

_D = OutboundDestination
_EVENT_COLUMNS = (
    Event.id,
    Event.type,
    Event.institution_id,
    Event.user_id,
    Event.course_id,
    Event.audience,
    Event.payload,
    Event.created_at,
)


@dataclass(frozen=True)
class Claimed:
    """A due destination as claimed: what the attempt's outcome is recorded against."""

    id: int
    institution_id: int
    delivered_through: int
    consecutive_failures: int


async def claim(
    session: AsyncSession, kind: str, head: int, now: datetime, *, lock: bool
) -> Claimed | None:
    query = (
        select(_D.id, _D.institution_id, _D.delivered_through, _D.consecutive_failures)
        .where(
            _D.kind == kind,
            _D.status == DestinationStatus.ACTIVE,
            _D.next_attempt_at <= now,
            _D.delivered_through < head,
        )
        .order_by(_D.next_attempt_at, _D.id)
        .limit(1)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else Claimed(*row)


async def update_if_unchanged(
    session: AsyncSession, claimed: Claimed, changes: dict[str, Any]
) -> bool:
    """Change the destination if it is still as claimed (no replay, resume or pause since, and
    not deleted); whether it was."""
    result = await session.execute(
        update(_D)
        .where(
            _D.id == claimed.id,
            _D.status == DestinationStatus.ACTIVE,
            _D.delivered_through == claimed.delivered_through,
            _D.consecutive_failures == claimed.consecutive_failures,
        )
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def events_after(
    session: AsyncSession,
    claimed: Claimed,
    head: int,
    types: Collection[str] | None,
    limit: int,
) -> list[LoggedEvent]:
    """The destination's institution's events after its cursor, up to `head`, of `types` if
    given, oldest first."""
    query = (
        select(*_EVENT_COLUMNS)
        .where(
            Event.institution_id == claimed.institution_id,
            Event.id > claimed.delivered_through,
            Event.id <= head,
        )
        .order_by(Event.id)
        .limit(limit)
    )
    if types is not None:
        query = query.where(Event.type.in_(sorted(types)))
    return [_logged(row) for row in (await session.execute(query)).all()]


async def furthest_behind(reader: AsyncConnection, kind: str) -> int | None:
    """The lowest cursor of the kind's active destinations; None if it has none."""
    lowest = await reader.scalar(
        select(func.min(_D.delivered_through)).where(
            _D.kind == kind, _D.status == DestinationStatus.ACTIVE
        )
    )
    return None if lowest is None else int(lowest)


async def write_delivery(
    session: AsyncSession,
    destination_id: int,
    *,
    status: DeliveryStatus,
    http_status: int | None,
    attempt: int,
    response_ms: int,
    error: str | None,
    event_ids: tuple[int, ...],
) -> None:
    """Record an attempt; every hundredth row also forgets the destination's oldest."""
    delivery_id = await session.scalar(
        insert(OutboundDelivery)
        .values(
            destination_id=destination_id,
            status=status,
            http_status=http_status,
            attempt=attempt,
            response_ms=response_ms,
            error=error[:ERROR_LIMIT] if error else None,
            first_event_id=event_ids[0],
            last_event_id=event_ids[-1],
            events=len(event_ids),
            created_at=utcnow(),
        )
        .returning(OutboundDelivery.id)
    )
    if delivery_id is not None and delivery_id % 100 == 0:
        await forget_old_deliveries(session, destination_id)


async def forget_old_deliveries(
    session: AsyncSession, destination_id: int, *, keep: int = KEPT_DELIVERIES
) -> None:
    """Delete the destination's delivery rows but the newest `keep`."""
    oldest_kept = (
        select(OutboundDelivery.id)
        .where(OutboundDelivery.destination_id == destination_id)
        .order_by(OutboundDelivery.id.desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        delete(OutboundDelivery).where(
            OutboundDelivery.destination_id == destination_id, OutboundDelivery.id < oldest_kept
        )
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
