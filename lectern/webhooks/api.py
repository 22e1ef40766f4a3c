"""The webhooks admin API under /api/v1/admin/webhooks, and the admins' Webhooks page."""

from typing import Annotated

from fastapi import Depends, Query, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.types import CATALOGUE
from lectern.models import OutboundDelivery
from lectern.models.base import utcnow
from lectern.outbound import service as outbound
from lectern.outbound.api import DestinationActions, add_destination_actions
from lectern.outbound.schemas import DeliveryOut
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.config import Settings
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import MAX_EVENT_ID, PathId
from lectern.web.rendering import admin_page, render
from lectern.webhooks import service
from lectern.webhooks.schemas import (
    ConnectionOut,
    EventTypeOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionWithSecret,
)

router = api_router(prefix="/api/v1/admin/webhooks", tags=["webhooks"])
pages = api_router(include_in_schema=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(found: service.Subscription) -> SubscriptionOut:
    return SubscriptionOut(**_fields(found))


def _with_secret(found: service.Subscription) -> SubscriptionWithSecret:
    return SubscriptionWithSecret(
        **_fields(found),
        secret=found.subscription.secret,
        previous_secret_until=found.subscription.previous_secret_until,
    )


def _fields(found: service.Subscription) -> dict[str, object]:
    subscription, destination = found.subscription, found.destination
    return {
        "id": subscription.id,
        "url": subscription.url,
        "description": subscription.description,
        "event_types": subscription.event_types,
        "status": destination.status,
        "delivered_through": destination.delivered_through,
        "consecutive_failures": destination.consecutive_failures,
        "next_attempt_at": destination.next_attempt_at,
        "last_error": destination.last_error,
        "paused_at": destination.paused_at,
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
    }


@router.get("/event-types", response_model=list[EventTypeOut])
async def event_types(_actor: Actor = Depends(admin_actor)) -> list[EventTypeOut]:
    """The event types a subscription may choose from (the event catalogue)."""
    return [
        EventTypeOut(type=name, audience=cls.audience.value)
        for name, cls in sorted(CATALOGUE.items())
    ]


@router.get("", response_model=list[SubscriptionOut])
async def subscriptions(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> list[SubscriptionOut]:
    return [_out(found) for found in await service.every(session, actor)]


@router.post("", response_model=SubscriptionWithSecret, status_code=status.HTTP_201_CREATED)
async def subscribe(
    body: SubscriptionIn,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> SubscriptionWithSecret:
    """Subscribe an HTTPS URL to event types of the institution. It receives the events that
    follow, each POSTed as `{type, timestamp, data}` and signed by the Standard Webhooks scheme
    with the `secret` answered here."""
    settings = _settings(request)
    return _with_secret(await db.run(lambda s: service.create(s, actor, body, settings)))


@router.get("/{subscription_id}", response_model=SubscriptionWithSecret)
async def subscription(
    subscription_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> SubscriptionWithSecret:
    return _with_secret(await service.one(session, actor, subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionOut)
async def change(
    subscription_id: PathId,
    body: SubscriptionPatch,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> SubscriptionOut:
    """Change the URL, the event types or the description; delivery goes on from its cursor."""
    settings = _settings(request)
    return _out(await db.run(lambda s: service.change(s, actor, subscription_id, body, settings)))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unsubscribe(
    subscription_id: PathId,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> None:
    await db.run(lambda s: service.remove(s, actor, subscription_id))


@router.post("/{subscription_id}/rotate-secret", response_model=SubscriptionWithSecret)
async def rotate_secret(
    subscription_id: PathId,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> SubscriptionWithSecret:
    """A new secret. For 24 hours deliveries carry a signature by the old one too."""
    return _with_secret(await db.run(lambda s: service.rotate_secret(s, actor, subscription_id)))


@router.post("/{subscription_id}/test", response_model=ConnectionOut)
async def try_connection(
    subscription_id: PathId,
    request: Request,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> ConnectionOut:
    """POST a signed `webhook.test` message to the URL now and tell how it answered (outside
    the event log: nothing is recorded and the cursor does not move)."""
    endpoint = await service.endpoint(session, actor, subscription_id)
    await session.rollback()  # no transaction stays open while the URL answers
    tried = await service.try_connection(endpoint, _settings(request))
    return ConnectionOut(**tried.__dict__)


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryOut])
async def deliveries(
    subscription_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
    failed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_EVENT_ID)] = None,
) -> list[OutboundDelivery]:
    """Delivery attempts, newest first; `failed=true` for the failures only; `before` an
    attempt's id for older ones."""
    return await service.deliveries(
        session, actor, subscription_id, failed_only=failed, limit=limit, before_id=before
    )


def _subscription_id(subscription_id: PathId) -> int:
    return subscription_id


add_destination_actions(
    router,
    DestinationActions(
        one="/{subscription_id}",
        destination_id=_subscription_id,
        replay=service.replay,
        resume=service.resume,
        out=_out,
        response_model=SubscriptionOut,
        replayed="Deliver again every event of its types from `from_event_id` on (the cursor "
        "moves back; never forward). The messages keep their webhook-id, so a receiver that "
        "dedupes skips them.",
        resumed="Try a paused subscription again now, from where its delivery stopped.",
    ),
)


@pages.get("/admin/webhooks", response_class=HTMLResponse)
async def webhooks_page(
    request: Request,
    actor: Actor = Depends(admin_page),
    session: AsyncSession = Depends(read_session),
) -> HTMLResponse:
    subscriptions = await outbound.with_recent_deliveries(
        session, await service.every(session, actor), lambda found: found.subscription.id
    )
    return render(
        request,
        "admin/webhooks.html",
        actor=actor,
        title="Webhooks",
        section="webhooks",
        scripts=("destinations.js", "webhooks.js"),
        subscriptions=subscriptions,
        event_types=sorted(CATALOGUE),
        now=utcnow(),
    )
