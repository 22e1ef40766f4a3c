"""Commands on an institution's webhook subscriptions, for its admins. A subscription of
another institution answers as one that does not exist."""

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import OutboundDelivery, OutboundDestination, WebhookSubscription
from lectern.models.base import utcnow
from lectern.outbound import service as outbound
from lectern.platform.actor import Actor
from lectern.platform.config import Settings
from lectern.platform.errors import Invalid, NotFound
from lectern.platform.outbound_http import RefusedDestination
from lectern.webhooks import rules
from lectern.webhooks.schemas import SubscriptionIn, SubscriptionPatch
from lectern.webhooks.sending import KIND, Endpoint, client, endpoint_of, post, refusal

# After a rotation the old secret signs beside the new one this long.
ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Subscription:
    """A subscription with its delivery state."""

    subscription: WebhookSubscription
    destination: OutboundDestination


def _checked_url(url: str, settings: Settings) -> str:
    try:
        return rules.check_url(
            url,
            allow_loopback_http=settings.webhooks_allow_loopback_http,
            private_networks=settings.outbound_private_networks,
        )
    except rules.RefusedUrl as refused:
        said = f"The URL {refused}."
        field = {"loc": ["body", "url"], "msg": said, "type": "webhook_url"}
        raise Invalid(said, slug="webhook-url", errors=[field]) from refused


def _checked_types(event_types: list[str]) -> list[str]:
    unknown = rules.unknown_types(event_types)
    if unknown:
        raise Invalid(
            f"No such event types: {', '.join(sorted(set(unknown)))}.", slug="unknown-event-type"
        )
    return sorted(set(event_types))


async def create(
    session: AsyncSession, actor: Actor, body: SubscriptionIn, settings: Settings
) -> Subscription:
    """A new subscription; it receives the events that follow it."""
    url, event_types = _checked_url(body.url, settings), _checked_types(body.event_types)
    destination = await outbound.create_destination(
        session, kind=KIND, institution_id=actor.institution_id
    )
    now = utcnow()
    subscription = WebhookSubscription(
        id=destination.id,
        institution_id=actor.institution_id,
        url=url,
        description=body.description,
        event_types=event_types,
        secret=rules.new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return Subscription(subscription, destination)


async def _subscription(
    session: AsyncSession, actor: Actor, subscription_id: int, *, lock: bool = False
) -> Subscription:
    query = (
        select(WebhookSubscription, OutboundDestination)
        .join(OutboundDestination, OutboundDestination.id == WebhookSubscription.id)
        .where(
            WebhookSubscription.id == subscription_id,
            WebhookSubscription.institution_id == actor.institution_id,
        )
    )
    if lock:
        query = query.with_for_update(of=WebhookSubscription)
    found = (await session.execute(query)).one_or_none()
    if found is None:
        raise NotFound("No such webhook subscription.")
    return Subscription(*found)


async def one(session: AsyncSession, actor: Actor, subscription_id: int) -> Subscription:
    return await _subscription(session, actor, subscription_id)


async def every(session: AsyncSession, actor: Actor) -> list[Subscription]:
    found = await session.execute(
        select(WebhookSubscription, OutboundDestination)
        .join(OutboundDestination, OutboundDestination.id == WebhookSubscription.id)
        .where(WebhookSubscription.institution_id == actor.institution_id)
        .order_by(WebhookSubscription.id)
    )
    return [Subscription(*row) for row in found.all()]


async def change(
    session: AsyncSession,
    actor: Actor,
    subscription_id: int,
    body: SubscriptionPatch,
    settings: Settings,
) -> Subscription:
    found = await _subscription(session, actor, subscription_id, lock=True)
    subscription = found.subscription
    if body.url is not None:
        subscription.url = _checked_url(body.url, settings)
    if body.event_types is not None:
        subscription.event_types = _checked_types(body.event_types)
    if body.description is not None:
        subscription.description = body.description
    subscription.updated_at = utcnow()
    await session.flush()
    return found


async def remove(session: AsyncSession, actor: Actor, subscription_id: int) -> None:
    """Delete the subscription with its destination and its delivery record."""
    await _subscription(session, actor, subscription_id)
    destination = await outbound.locked(session, subscription_id)
    await session.delete(destination)
    await session.flush()


async def rotate_secret(session: AsyncSession, actor: Actor, subscription_id: int) -> Subscription:
    """A new secret; the one it replaces signs beside it for a day, so receivers can switch."""
    found = await _subscription(session, actor, subscription_id, lock=True)
    subscription, now = found.subscription, utcnow()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = now + ROTATION_OVERLAP
    subscription.secret = rules.new_secret()
    subscription.updated_at = now
    await session.flush()
    return found


async def replay(
    session: AsyncSession, actor: Actor, subscription_id: int, from_event_id: int
) -> Subscription:
    await _subscription(session, actor, subscription_id)
    destination = await outbound.replay_from(session, subscription_id, from_event_id)
    return await _with(session, actor, subscription_id, destination)


async def resume(session: AsyncSession, actor: Actor, subscription_id: int) -> Subscription:
    await _subscription(session, actor, subscription_id)
    destination = await outbound.resume(session, subscription_id)
    return await _with(session, actor, subscription_id, destination)


async def _with(
    session: AsyncSession, actor: Actor, subscription_id: int, destination: OutboundDestination
) -> Subscription:
    found = await _subscription(session, actor, subscription_id)
    return Subscription(found.subscription, destination)


async def deliveries(
    session: AsyncSession,
    actor: Actor,
    subscription_id: int,
    *,
    failed_only: bool,
    limit: int,
    before_id: int | None,
) -> list[OutboundDelivery]:
    await _subscription(session, actor, subscription_id)
    return await outbound.deliveries(
        session, subscription_id, failed_only=failed_only, limit=limit, before_id=before_id
    )


@dataclass(frozen=True)
class ConnectionTried:
    ok: bool
    http_status: int | None
    response_ms: int
    error: str | None


async def endpoint(session: AsyncSession, actor: Actor, subscription_id: int) -> Endpoint:
    """What sending to the subscription needs, as plain data that outlives the session."""
    found = await _subscription(session, actor, subscription_id)
    return endpoint_of(found.subscription, utcnow())


async def try_connection(endpoint: Endpoint, settings: Settings) -> ConnectionTried:
    """POST a signed `webhook.test` message now, outside the log and its cursor."""
    payload = rules.body(
        rules.TEST_TYPE, utcnow(), {"subscription_id": endpoint.id, "url": endpoint.url}
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, error = None, None
    try:
        async with (
            asyncio.timeout(settings.outbound_timeout_seconds),
            client(
                private_networks=settings.outbound_private_networks,
                loopback_http=settings.webhooks_allow_loopback_http,
            ) as http,
        ):
            response = await post(http, endpoint, f"test_{secrets.token_hex(12)}", payload)
        status = response.status_code
        if not response.is_success:
            error = refusal(response).error
    except TimeoutError:
        error = f"no answer within {settings.outbound_timeout_seconds:g} s"
    except RefusedDestination as refused:
        error = str(refused)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as failed:
        error = f"{type(failed).__name__}: {failed}"
    elapsed = round((loop.time() - started) * 1000)
    return ConnectionTried(error is None, status, elapsed, error)
