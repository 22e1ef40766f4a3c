"""Mail preferences, one-click unsubscribe (RFC 8058), and the admins' view of the outbox."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.mail import preferences
from lectern.models import OutboxMessage
from lectern.models.mail import MailChoice, MailKind
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor, current_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import LecternError
from lectern.platform.routes import api_router
from lectern.platform.schemas import Input, Offset, Output
from lectern.web.rendering import admin_page, page_actor, render

router = api_router(prefix="/api/v1", tags=["mail"])
pages = api_router(include_in_schema=False)
UnsubscribeToken = Annotated[str, Query(min_length=1, max_length=200)]


# The kinds a learner chooses for (lectern.mail.compose.CHOOSABLE), and the choices.
ChoosableKind = Literal["request_reviewed", "enrolled", "enrollment_expiring", "certificate_issued"]
Choice = Literal["immediately", "daily_digest", "none"]


class MailChoicesIn(Input):
    choices: dict[ChoosableKind, Choice] = Field(max_length=len(MailKind))


class MailChoicesOut(Output):
    choices: dict[str, MailChoice]


class UnsubscribedOut(Output):
    stopped: list[MailKind]


class OutboxMessageOut(Output):
    id: int
    user_id: int
    kind: str
    status: str
    to_address: str
    subject: str
    text_body: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


@router.get("/me/mail-preferences", response_model=MailChoicesOut)
async def my_mail_preferences(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> MailChoicesOut:
    return MailChoicesOut(choices=await preferences.my_choices(session, actor))


@router.patch("/me/mail-preferences", response_model=MailChoicesOut)
async def choose_mail(
    body: MailChoicesIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> MailChoicesOut:
    """Each kind immediately, in a daily digest, or not at all."""
    return MailChoicesOut(
        choices=await db.run(lambda s: preferences.choose(s, actor.id, _chosen(body)))
    )


def _chosen(body: MailChoicesIn) -> dict[MailKind, MailChoice]:
    return {MailKind(kind): MailChoice(choice) for kind, choice in body.choices.items()}


@router.post("/mail/unsubscribe", response_model=UnsubscribedOut)
async def unsubscribe(
    token: UnsubscribeToken, db: Database = Depends(get_database)
) -> UnsubscribedOut:
    """The link of every message, without signing in; also the List-Unsubscribe-Post target."""
    return UnsubscribedOut(stopped=await db.run(lambda s: preferences.unsubscribe(s, token)))


async def _unsubscribe_page(
    request: Request,
    token: str,
    *,
    stopped: list[MailKind] | None = None,
    refused: LecternError | None = None,
) -> HTMLResponse:
    page = render(
        request,
        "unsubscribe.html",
        actor=await page_actor(request),
        title="Unsubscribed" if stopped else "Unsubscribe",
        token=token,
        done=stopped,
        error=refused.detail if refused else None,
    )
    if refused:
        page.status_code = refused.status
    return page


@pages.get("/mail/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(request: Request, token: UnsubscribeToken) -> HTMLResponse:
    """One button: mail scanners follow links, so only the button's POST unsubscribes."""
    return await _unsubscribe_page(request, token)


@pages.post("/mail/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_now(
    request: Request, token: UnsubscribeToken, db: Database = Depends(get_database)
) -> HTMLResponse:
    """The page's button, and mail clients' one-click POST (RFC 8058): the body is not needed."""
    try:
        stopped = await db.run(lambda s: preferences.unsubscribe(s, token))
    except LecternError as refused:
        return await _unsubscribe_page(request, token, refused=refused)
    return await _unsubscribe_page(request, token, stopped=stopped)


@router.get("/admin/mail", response_model=list[OutboxMessageOut])
async def institution_mail(
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[OutboxMessage]:
    """The messages to people of the admin's institution, newest first: how to read them when
    no SMTP server is configured."""
    return await preferences.institution_mail(session, actor, limit=limit, offset=offset)


@pages.get("/admin/mail", response_class=HTMLResponse)
async def mail_page(
    request: Request,
    actor: Actor = Depends(admin_page),
    session: AsyncSession = Depends(read_session),
    offset: Offset = 0,
) -> HTMLResponse:
    messages = await preferences.institution_mail(session, actor, limit=50, offset=offset)
    return render(
        request,
        "admin/mail.html",
        actor=actor,
        title="Mail",
        section="mail",
        messages=messages,
        smtp=bool(request.app.state.settings.smtp_host),
        offset=offset,
    )
