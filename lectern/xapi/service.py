"""Commands on an institution's learning record stores. Each is an outbound destination of kind
`xapi` (lectern.outbound holds its cursor and delivery state) with a row of settings of the same
id. Only the institution's admins reach them; another institution's are not found."""

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import OutboundDelivery, OutboundDestination, XapiDestination
from lectern.models.base import utcnow
from lectern.models.outbound import DestinationStatus
from lectern.outbound import service as outbound
from lectern.platform.actor import Actor
from lectern.platform.errors import Forbidden, Invalid, NotFound
from lectern.xapi.delivery import KIND
from lectern.xapi.rules import endpoint_base, endpoint_problem


@dataclass(frozen=True)
class Destination:
    settings: XapiDestination
    delivery: OutboundDestination


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only admins configure learning record stores.")


def _checked_endpoint(endpoint: str, allow_loopback_http: bool, private_networks: bool) -> str:
    if problem := endpoint_problem(
        endpoint, allow_loopback_http=allow_loopback_http, private_networks=private_networks
    ):
        said = f"The endpoint {problem}."
        field = {"loc": ["body", "endpoint"], "msg": said, "type": "xapi_endpoint"}
        raise Invalid(said, slug="xapi-endpoint", errors=[field])
    return endpoint_base(endpoint)


async def destinations_of(session: AsyncSession, actor: Actor) -> list[Destination]:
    _require_admin(actor)
    rows = await session.execute(
        select(XapiDestination, OutboundDestination)
        .join(OutboundDestination, OutboundDestination.id == XapiDestination.id)
        .where(XapiDestination.institution_id == actor.institution_id)
        .order_by(XapiDestination.id)
    )
    return [Destination(settings, delivery) for settings, delivery in rows]


async def destination_of(session: AsyncSession, actor: Actor, destination_id: int) -> Destination:
    _require_admin(actor)
    row = (
        await session.execute(
            select(XapiDestination, OutboundDestination)
            .join(OutboundDestination, OutboundDestination.id == XapiDestination.id)
            .where(
                XapiDestination.id == destination_id,
                XapiDestination.institution_id == actor.institution_id,
            )
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such learning record store.")
    return Destination(*row)


async def add_destination(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    endpoint: str,
    key: str,
    secret: str,
    enabled: bool,
    activity_origin: str,
    allow_loopback_http: bool,
    private_networks: bool = False,
) -> Destination:
    """A learning record store for the admin's institution. It receives the statements of the
    events that follow (not the past: replay for those), once it is enabled."""
    _require_admin(actor)
    endpoint = _checked_endpoint(endpoint, allow_loopback_http, private_networks)
    delivery = await outbound.create_destination(
        session, kind=KIND, institution_id=actor.institution_id
    )
    now = utcnow()
    settings = XapiDestination(
        id=delivery.id,
        institution_id=actor.institution_id,
        name=name,
        endpoint=endpoint,
        key=key,
        secret=secret,
        enabled=enabled,
        statement_namespace=str(uuid4()),
        activity_origin=activity_origin.rstrip("/"),
        created_at=now,
        updated_at=now,
    )
    session.add(settings)
    if not enabled:
        _hold(delivery)
    await session.flush()
    return Destination(settings, delivery)


def _hold(delivery: OutboundDestination) -> None:
    """A disabled destination waits, its cursor where it is: enabling it sends what it missed."""
    delivery.status = DestinationStatus.PAUSED
    delivery.paused_at = utcnow()


async def change_destination(
    session: AsyncSession,
    actor: Actor,
    destination_id: int,
    *,
    allow_loopback_http: bool = False,
    private_networks: bool = False,
    **changes: Any,
) -> Destination:
    """Change the fields given. Disabling holds delivery where it is; enabling resumes it from
    there (also after a pause for failures)."""
    found = await destination_of(session, actor, destination_id)
    settings = found.settings
    if "endpoint" in changes:
        changes["endpoint"] = _checked_endpoint(
            changes["endpoint"], allow_loopback_http, private_networks
        )
    enabled = changes.pop("enabled", None)
    for field, value in changes.items():
        setattr(settings, field, value)
    delivery = found.delivery
    if enabled is False:
        delivery = await outbound.locked(session, destination_id)
        _hold(delivery)
    elif enabled is True:
        delivery = await outbound.resume(session, destination_id)
    if enabled is not None:
        settings.enabled = enabled
    settings.updated_at = utcnow()
    await session.flush()
    return Destination(settings, delivery)


async def resume_destination(
    session: AsyncSession, actor: Actor, destination_id: int
) -> Destination:
    """Send again from where delivery stopped: after a pause for failures, or a disabling."""
    return await change_destination(session, actor, destination_id, enabled=True)


async def remove_destination(session: AsyncSession, actor: Actor, destination_id: int) -> None:
    found = await destination_of(session, actor, destination_id)
    # The settings row and the delivery records go with it (ON DELETE CASCADE).
    await session.execute(
        delete(OutboundDestination).where(OutboundDestination.id == found.delivery.id)
    )


async def replay_destination(
    session: AsyncSession, actor: Actor, destination_id: int, from_event_id: int
) -> Destination:
    """Send the statements of the events from `from_event_id` on again, in order, with the ids
    they had: the LRS keeps one copy of each and stores again what it lost."""
    found = await destination_of(session, actor, destination_id)
    delivery = await outbound.replay_from(session, destination_id, from_event_id)
    return Destination(found.settings, delivery)


async def recent_deliveries(
    session: AsyncSession,
    actor: Actor,
    destination_id: int,
    *,
    failed_only: bool,
    limit: int,
) -> list[OutboundDelivery]:
    """The latest delivery attempts, newest first: what was sent, what failed and why."""
    await destination_of(session, actor, destination_id)
    return await outbound.deliveries(session, destination_id, failed_only=failed_only, limit=limit)
