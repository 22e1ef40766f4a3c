"""Admins' learning record stores: configure, test the connection, recent deliveries and
failures, replay from an event, resume; and the admin page that does the same."""

from typing import Annotated

from fastapi import Depends, Query, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.outbound import service as outbound
from lectern.outbound.api import DestinationActions, add_destination_actions
from lectern.outbound.schemas import DeliveryOut
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.config import Settings
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import Invalid
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.web.rendering import admin_page, render
from lectern.xapi import service
from lectern.xapi.delivery import check_connection
from lectern.xapi.schemas import ConnectionOut, DestinationIn, DestinationOut, DestinationPatch
from lectern.xapi.service import Destination

router = api_router(prefix="/api/v1", tags=["xapi"])
pages = api_router(include_in_schema=False)
DESTINATIONS = "/admin/xapi/destinations"
ONE = DESTINATIONS + "/{destination_id}"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(found: Destination) -> DestinationOut:
    settings, delivery = found.settings, found.delivery
    return DestinationOut(
        id=settings.id,
        name=settings.name,
        endpoint=settings.endpoint,
        key=settings.key,
        enabled=settings.enabled,
        status=delivery.status,
        delivered_through=delivery.delivered_through,
        consecutive_failures=delivery.consecutive_failures,
        last_error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at,
        paused_at=delivery.paused_at,
        activity_origin=settings.activity_origin,
        created_at=settings.created_at,
        updated_at=settings.updated_at,
    )


@router.get(DESTINATIONS, response_model=list[DestinationOut])
async def list_destinations(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> list[DestinationOut]:
    return [_out(found) for found in await service.destinations_of(session, actor)]


@router.post(DESTINATIONS, status_code=status.HTTP_201_CREATED, response_model=DestinationOut)
async def add_destination(
    body: DestinationIn,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> DestinationOut:
    """Add a learning record store (its xAPI base URL and the Basic key and secret it issued).
    It receives the statements of what learners do from now on; replay sends earlier ones."""
    origin = public_url(request)
    allow = _settings(request).xapi_allow_loopback_http
    private = _settings(request).outbound_private_networks

    async def command(session: AsyncSession) -> DestinationOut:
        found = await service.add_destination(
            session,
            actor,
            **body.model_dump(),
            activity_origin=origin,
            allow_loopback_http=allow,
            private_networks=private,
        )
        return _out(found)

    return await db.run(command)


@router.get(ONE, response_model=DestinationOut)
async def get_destination(
    destination_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> DestinationOut:
    return _out(await service.destination_of(session, actor, destination_id))


@router.patch(ONE, response_model=DestinationOut)
async def change_destination(
    destination_id: PathId,
    body: DestinationPatch,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> DestinationOut:
    """Change the fields given; the secret is kept unless a new one is given. `enabled: false`
    holds delivery where it is, `true` resumes it from there."""
    changes = body.model_dump(exclude_unset=True)
    if nulls := sorted(name for name, value in changes.items() if value is None):
        raise Invalid(f"{', '.join(nulls)} cannot be null; leave a field out to keep it.")
    allow = _settings(request).xapi_allow_loopback_http
    private = _settings(request).outbound_private_networks

    async def command(session: AsyncSession) -> DestinationOut:
        found = await service.change_destination(
            session,
            actor,
            destination_id,
            allow_loopback_http=allow,
            private_networks=private,
            **changes,
        )
        return _out(found)

    return await db.run(command)


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT)
async def remove_destination(
    destination_id: PathId,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> None:
    await db.run(lambda s: service.remove_destination(s, actor, destination_id))


@router.post(ONE + "/test", response_model=ConnectionOut)
async def check_lrs_connection(
    destination_id: PathId,
    request: Request,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> ConnectionOut:
    """Ask the LRS now whether it answers and takes the credentials; changes nothing."""
    async with db.session() as session:
        settings = (await service.destination_of(session, actor, destination_id)).settings
    check = await check_connection(
        settings.endpoint,
        settings.key,
        settings.secret,
        answer_within=_settings(request).outbound_timeout_seconds,
        private_networks=_settings(request).outbound_private_networks,
        loopback_http=_settings(request).xapi_allow_loopback_http,
    )
    return ConnectionOut(
        ok=check.ok,
        detail=check.detail,
        about_status=check.about_status,
        versions=list(check.versions),
        statements_status=check.statements_status,
    )


@router.get(ONE + "/deliveries", response_model=list[DeliveryOut])
async def recent_deliveries(
    destination_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
    failed: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """The latest delivery attempts, newest first (`failed=true`: the failures only)."""
    rows = await service.recent_deliveries(
        session, actor, destination_id, failed_only=failed, limit=limit
    )
    return [DeliveryOut.model_validate(row) for row in rows]


def _destination_id(destination_id: PathId) -> int:
    return destination_id


add_destination_actions(
    router,
    DestinationActions(
        one=ONE,
        destination_id=_destination_id,
        replay=service.replay_destination,
        resume=service.resume_destination,
        out=_out,
        response_model=DestinationOut,
        replayed="Send again the statements of the events from `from_event_id` on, in order "
        "and with the ids they had: the LRS keeps one copy of each and stores again what it "
        "lost.",
        resumed="Enable a destination and send from where its delivery stopped (a pause for "
        "failures).",
    ),
)


@pages.get("/admin/xapi", response_class=HTMLResponse)
async def xapi_page(
    request: Request,
    actor: Actor = Depends(admin_page),
    session: AsyncSession = Depends(read_session),
) -> HTMLResponse:
    listed = [_out(found) for found in await service.destinations_of(session, actor)]
    destinations = await outbound.with_recent_deliveries(session, listed, lambda out: out.id)
    return render(
        request,
        "admin/xapi.html",
        actor=actor,
        title="Learning record stores",
        section="xapi",
        scripts=("destinations.js", "xapi.js"),
        destinations=destinations,
    )
