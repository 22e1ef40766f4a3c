"""Commands on destinations: create one at the log's head, replay from an event, resume one that
was paused; and the record of their deliveries. The integration checks who may do them (a
destination is its institution's) before it calls them; none commits."""

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events import inflight, log
from lectern.models import Event, OutboundDelivery, OutboundDestination
from lectern.models.base import utcnow
from lectern.models.outbound import DeliveryStatus, DestinationStatus
from lectern.platform.errors import Invalid, NotFound

Listed = TypeVar("Listed")


async def log_head(session: AsyncSession) -> int:
    """The newest event id at or below which every event is final (lectern.live.pump)."""
    connection = await session.connection()
    final = await inflight.LogHead().final_up_to(connection)
    return await log.last_id(connection, final.upto)


async def create_destination(
    session: AsyncSession, *, kind: str, institution_id: int
) -> OutboundDestination:
    """A new destination of `kind`, which receives the events that follow it, not the past."""
    now = utcnow()
    destination = OutboundDestination(
        kind=kind,
        institution_id=institution_id,
        delivered_through=await log_head(session),
        status=DestinationStatus.ACTIVE,
        consecutive_failures=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(destination)
    await session.flush()
    return destination


async def locked(session: AsyncSession, destination_id: int) -> OutboundDestination:
    """The destination, locked for a change (a worker sending to it finishes first)."""
    destination = await session.scalar(
        select(OutboundDestination)
        .where(OutboundDestination.id == destination_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if destination is None:
        raise NotFound("No such destination.")
    return destination


async def replay_from(
    session: AsyncSession, destination_id: int, event_id: int
) -> OutboundDestination:
    """Deliver again every event from `event_id` on: the cursor moves back before it. The
    messages carry the ids they carried before, so a receiver that dedupes skips them."""
    destination = await locked(session, destination_id)
    if event_id - 1 > destination.delivered_through:
        raise Invalid(
            f"Events up to {destination.delivered_through} are delivered; a replay starts at "
            "one of them (replaying moves back, never past what was not sent).",
            slug="replay-ahead",
        )
    destination.delivered_through = event_id - 1
    destination.consecutive_failures = 0
    destination.next_attempt_at = utcnow()
    return destination


async def resume(session: AsyncSession, destination_id: int) -> OutboundDestination:
    """Try a paused destination again now, from where its delivery stopped."""
    destination = await locked(session, destination_id)
    destination.status = DestinationStatus.ACTIVE
    destination.consecutive_failures = 0
    destination.paused_at = None
    destination.next_attempt_at = utcnow()
    return destination


async def deliveries(
    session: AsyncSession,
    destination_id: int,
    *,
    failed_only: bool = False,
    limit: int = 50,
    before_id: int | None = None,
) -> list[OutboundDelivery]:
    """The destination's delivery attempts, newest first (older ones from `before_id`)."""
    query = select(OutboundDelivery).where(OutboundDelivery.destination_id == destination_id)
    if failed_only:
        query = query.where(OutboundDelivery.status == DeliveryStatus.FAILED)
    if before_id is not None:
        query = query.where(OutboundDelivery.id < before_id)
    found = await session.scalars(query.order_by(OutboundDelivery.id.desc()).limit(limit))
    return list(found)


async def with_recent_deliveries(
    session: AsyncSession,
    listed: Sequence[Listed],
    destination_id: Callable[[Listed], int],
    *,
    limit: int = 20,
) -> list[tuple[Listed, list[OutboundDelivery]]]:
    """Each of the destinations an admin page lists, beside its latest delivery attempts."""
    return [
        (found, await deliveries(session, destination_id(found), limit=limit)) for found in listed
    ]


async def waiting_events(
    session: AsyncSession, destination: OutboundDestination, *, up_to: int = 10_000
) -> int:
    """How many of its institution's events are past the destination's cursor, counted up to
    `up_to` (an upper bound of what it still has to take: it may not take every type)."""
    past = (
        select(Event.id)
        .where(
            Event.institution_id == destination.institution_id,
            Event.id > destination.delivered_through,
        )
        .limit(up_to)
        .subquery()
    )
    return int(await session.scalar(select(func.count()).select_from(past)) or 0)
