"""Writing messages to the outbox, in the transaction of the command that causes them.

Learner mail is derived from the event log: `mail_for_events` subscribes to the event types
that warrant a message and writes the outbox rows beside the events, so a command neither
knows nor forgets. Account mail (a reset link, an e-mail change) is written by its command
with `enqueue`, since its link must never appear in the log.
"""

import secrets
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from lectern.events.subscribers import subscribe
from lectern.events.types import (
    CertificateIssued,
    DomainEvent,
    EnrollmentCreated,
    EnrollmentExpiring,
    EnrollmentReactivated,
    RequestApproved,
    RequestRejected,
)
from lectern.mail.compose import ALL_CHOOSABLE, CHOOSABLE, DEFAULT_CHOICE, compose, message_id
from lectern.mail.compose import unsubscribe_token as sign
from lectern.models import Course, MailPreferences, OutboxMessage, User
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentSource
from lectern.models.mail import MailChoice, MailKind, MailStatus
from lectern.platform.config import Settings, get_settings
from lectern.platform.db import insert_of

# Enrollments someone else made for the learner; those they made themselves need no e-mail.
ENROLLED_FOR_THEM = {EnrollmentSource.ADMIN, EnrollmentSource.IMPORT}


def origin(settings: Settings) -> str:
    """Where links in e-mail point: LECTERN_PUBLIC_URL (`lectern serve` always sets it)."""
    return settings.public_url or "http://localhost:8000"


def preferences_of(session: Session, user_id: int) -> MailPreferences:
    """The person's preferences, made with a new signing key the first time they are needed."""
    insert = insert_of(session.get_bind().dialect.name)
    session.execute(
        insert(MailPreferences)
        .values(user_id=user_id, signing_key=secrets.token_hex(32), choices={}, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    return session.execute(
        select(MailPreferences).where(MailPreferences.user_id == user_id)
    ).scalar_one()


class Preferences(Protocol):
    """What sending needs of a person's preferences: the entity, or a row of its columns."""

    @property
    def user_id(self) -> int: ...
    @property
    def signing_key(self) -> str: ...
    @property
    def choices(self) -> dict[str, str]: ...


_TABLES = User.metadata.tables
_USERS, _PREFERENCES = _TABLES["users"], _TABLES["mail_preferences"]
_OUTBOX = _TABLES[OutboxMessage.__tablename__]
# Every message a command writes reads its learner and their choices: one statement, built once.
_RECIPIENT = (
    select(_USERS.c.email, _USERS.c.full_name, *_PREFERENCES.c)
    .outerjoin(_PREFERENCES, _PREFERENCES.c.user_id == _USERS.c.id)
    .where(_USERS.c.id == bindparam("user_id"))
)


def _recipient(session: Session, user_id: int) -> Any | None:
    """The person's address, name and preferences (made the first time they are needed)."""
    row = session.execute(_RECIPIENT, {"user_id": user_id}).one_or_none()
    if row is None or row.signing_key is not None:
        return row
    preferences_of(session, user_id)
    return session.execute(_RECIPIENT, {"user_id": user_id}).one()


def choice_of(preferences: Preferences, kind: MailKind) -> MailChoice:
    if kind not in CHOOSABLE:
        return MailChoice.IMMEDIATELY
    return MailChoice(preferences.choices.get(kind.value, DEFAULT_CHOICE))


def unsubscribe_url(settings: Settings, preferences: Preferences, kind: MailKind) -> str:
    which = kind.value if kind in CHOOSABLE else ALL_CHOOSABLE
    token = sign(preferences.signing_key, preferences.user_id, which)
    return f"{origin(settings)}/mail/unsubscribe?token={token}"


def enqueue(
    session: Session,
    *,
    user_id: int,
    institution_id: int,
    kind: MailKind,
    context: dict[str, Any],
    to: str | None = None,
) -> bool:
    """Write a message of `kind` to the person, as they chose to get that kind (False if not at
    all); `to` another address than theirs (a new one being confirmed)."""
    settings = get_settings()
    user = _recipient(session, user_id)
    if user is None:
        return False
    preferences: Preferences = user
    choice = choice_of(preferences, kind)
    if choice == MailChoice.NONE:
        return False
    link = unsubscribe_url(settings, preferences, kind)
    composed = compose(
        kind,
        {"name": user.full_name, "app_url": origin(settings), "unsubscribe_url": link, **context},
    )
    now = utcnow()
    message = dict(
        user_id=user_id,
        institution_id=institution_id,
        kind=kind,
        status=MailStatus.HELD if choice == MailChoice.DAILY_DIGEST else MailStatus.PENDING,
        to_address=to or user.email,
        subject=composed.subject,
        text_body=composed.text,
        html_body=composed.html,
        unsubscribe_url=link,
        message_id=message_id(settings.smtp_from),
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.execute(insert(_OUTBOX), message)
    return True


async def enqueue_now(session: AsyncSession, **message: Any) -> None:
    """`enqueue` from a command's async session."""
    await session.run_sync(lambda sync: enqueue(sync, **message))


def _course_title(session: Session, payload: dict[str, Any]) -> str:
    title = payload.get("course_title")
    if title:
        return str(title)
    return str(session.scalar(select(Course.title).where(Course.id == payload["course_id"])))


def _mail_of(session: Session, event: dict[str, Any]) -> tuple[MailKind, dict[str, Any]] | None:
    """The message an event warrants, if any, and what its templates need."""
    payload, kind = event["payload"], event["type"]
    app = origin(get_settings())
    if kind in (RequestApproved.type, RequestRejected.type):
        context = {"status": payload["status"], "note": payload.get("note") or ""}
        return MailKind.REQUEST_REVIEWED, {**context, "link": f"{app}/learn"}
    if kind in (EnrollmentCreated.type, EnrollmentReactivated.type):
        if payload["source"] not in ENROLLED_FOR_THEM:
            return None
        return MailKind.ENROLLED, {"link": f"{app}/learn"}
    if kind == CertificateIssued.type:
        return MailKind.CERTIFICATE_ISSUED, {"verify_url": f"{app}/verify/{payload['code']}"}
    if kind == EnrollmentExpiring.type:
        ends_at = f"{datetime.fromisoformat(payload['ends_at']):%Y-%m-%d %H:%M} UTC"
        return MailKind.ENROLLMENT_EXPIRING, {"ends_at": ends_at, "link": f"{app}/learn"}
    return None


def mail_for_events(session: Session, events: list[dict[str, Any]]) -> None:
    """The event subscriber: a message for each event that warrants one, to its learner."""
    for event in events:
        mail = _mail_of(session, event)
        if mail is None or event["user_id"] is None:
            continue
        kind, context = mail
        enqueue(
            session,
            user_id=event["user_id"],
            institution_id=event["institution_id"],
            kind=kind,
            context={"course_title": _course_title(session, event["payload"]), **context},
        )


MAILED_EVENTS: tuple[type[DomainEvent], ...] = (
    RequestApproved,
    RequestRejected,
    EnrollmentCreated,
    EnrollmentReactivated,
    EnrollmentExpiring,
    CertificateIssued,
)


def subscribe_mail() -> None:
    """Have the event log's mail-worthy events write their messages (idempotent)."""
    subscribe(MAILED_EVENTS, mail_for_events)
