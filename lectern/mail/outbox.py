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
from sqlalchemy.sql import Executable

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
from lectern.models.enums import EnrollmentSource, Role
from lectern.models.mail import MailChoice, MailKind, MailStatus
from lectern.platform.config import Settings, get_settings
from lectern.platform.db import insert_of
from lectern.platform.prepared import Prepared

# Enrollments someone else made for the learner; those they made themselves need no e-mail.
ENROLLED_FOR_THEM = {EnrollmentSource.ADMIN, EnrollmentSource.IMPORT}


def origin(settings: Settings) -> str:
    """Where links in e-mail point: LECTERN_PUBLIC_URL (`lectern serve` always sets it)."""
    return settings.public_url or "http://localhost:8000"


_TABLES = User.metadata.tables
_USERS, _PREFERENCES = _TABLES["users"], _TABLES["mail_preferences"]
_OUTBOX = _TABLES[OutboxMessage.__tablename__]
# Every message a command writes reads its learner and their choices, and writes one row: the
# statements are built once and run on the driver (lectern.platform.prepared).
_RECIPIENT = Prepared(
    select(_USERS.c.email, _USERS.c.full_name, *_PREFERENCES.c)
    .outerjoin(_PREFERENCES, _PREFERENCES.c.user_id == _USERS.c.id)
    .where(_USERS.c.id == bindparam("user_id"))
)
_QUEUE = Prepared(
    insert(_OUTBOX).values(
        {
            column.name: bindparam(column.name, type_=column.type)
            for column in _OUTBOX.c
            if column.name not in ("id", "last_error", "sent_at")
        }
    )
)


def _make_preferences(dialect_name: str) -> Executable:
    return (
        insert_of(dialect_name)(_PREFERENCES)
        .values(
            user_id=bindparam("user_id"),
            signing_key=bindparam("signing_key"),
            choices=bindparam("choices", type_=_PREFERENCES.c.choices.type),
            updated_at=bindparam("now", type_=_PREFERENCES.c.updated_at.type),
        )
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


_MAKE_PREFERENCES = Prepared(_make_preferences)


async def preferences_of(session: AsyncSession, user_id: int) -> MailPreferences:
    """The person's preferences, made with a new signing key the first time they are needed."""
    await _make_preferences_once(session, user_id)
    preferences = await session.get(MailPreferences, user_id, populate_existing=True)
    assert preferences is not None
    return preferences


async def _make_preferences_once(session: AsyncSession, user_id: int) -> None:
    await _MAKE_PREFERENCES.run(session, _new_preferences(user_id, utcnow()))


def _new_preferences(user_id: int, now: datetime) -> dict[str, Any]:
    """The parameters of `_MAKE_PREFERENCES` for a person: a new signing key, no choices."""
    return {"user_id": user_id, "signing_key": secrets.token_hex(32), "choices": {}, "now": now}


class Preferences(Protocol):
    """What sending needs of a person's preferences: the entity, or a row of its columns."""

    @property
    def user_id(self) -> int: ...
    @property
    def signing_key(self) -> str: ...
    @property
    def choices(self) -> dict[str, str]: ...


async def _recipient(session: AsyncSession, user_id: int) -> Any | None:
    """The person's address, name and preferences (made the first time they are needed)."""
    row = await _RECIPIENT.one_or_none(session, {"user_id": user_id})
    if row is None or row.signing_key is not None:
        return row
    await _make_preferences_once(session, user_id)
    return await _RECIPIENT.one(session, {"user_id": user_id})


def choice_of(preferences: Preferences, kind: MailKind) -> MailChoice:
    if kind not in CHOOSABLE:
        return MailChoice.IMMEDIATELY
    return MailChoice(preferences.choices.get(kind.value, DEFAULT_CHOICE))


def unsubscribe_url(settings: Settings, preferences: Preferences, kind: MailKind) -> str:
    which = kind.value if kind in CHOOSABLE else ALL_CHOOSABLE
    token = sign(preferences.signing_key, preferences.user_id, which)
    return f"{origin(settings)}/mail/unsubscribe?token={token}"


async def enqueue(
    session: AsyncSession,
    *,
    user_id: int,
    institution_id: int,
    kind: MailKind,
    context: dict[str, Any],
    to: str | None = None,
) -> bool:
    """Write a message of `kind` to the person, as they chose to get that kind (False if not at
    all); `to` another address than theirs (a new one being confirmed)."""
    message = _message(
        get_settings(), await _recipient(session, user_id), institution_id, kind, context, to
    )
    if message is None:
        return False
    await _QUEUE.run(session, message)
    return True


def _message(
    settings: Settings,
    user: Any | None,
    institution_id: int,
    kind: MailKind,
    context: dict[str, Any],
    to: str | None = None,
) -> dict[str, Any] | None:
    """The outbox row of a message of `kind` to `user` (a row of `_RECIPIENT`'s columns), as
    they chose to get that kind; None if not at all."""
    if user is None:
        return None
    preferences: Preferences = user
    choice = choice_of(preferences, kind)
    if choice == MailChoice.NONE:
        return None
    link = unsubscribe_url(settings, preferences, kind)
    composed = compose(
        kind,
        {"name": user.full_name, "app_url": origin(settings), "unsubscribe_url": link, **context},
    )
    now = utcnow()
    return dict(
        user_id=user.user_id,
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


async def enqueue_to_admins(
    session: AsyncSession, institution_id: int, kind: MailKind, context: dict[str, Any]
) -> None:
    """A message of `kind` to each admin of the institution who is not suspended."""
    admins = await session.scalars(
        select(User.id).where(
            User.institution_id == institution_id,
            User.role == Role.ADMIN,
            User.suspended_at.is_(None),
        )
    )
    for admin_id in admins.all():
        await enqueue(
            session, user_id=admin_id, institution_id=institution_id, kind=kind, context=context
        )


# People per statement when a command mails many (a roster file's learners).
_RECIPIENTS_PER_STATEMENT = 5000


async def _recipients(session: AsyncSession, user_ids: set[int]) -> dict[int, Any]:
    """`_recipient` of many people, a statement per step for them all."""
    found: dict[int, Any] = {}
    ordered = sorted(user_ids)
    for start in range(0, len(ordered), _RECIPIENTS_PER_STATEMENT):
        batch = ordered[start : start + _RECIPIENTS_PER_STATEMENT]
        found.update(await _recipient_rows(session, batch))
    lacking = sorted(user_id for user_id, row in found.items() if row.signing_key is None)
    if lacking:
        now = utcnow()
        await session.execute(
            _MAKE_PREFERENCES.statement(session.get_bind().dialect.name),
            [_new_preferences(user_id, now) for user_id in lacking],
        )
        for start in range(0, len(lacking), _RECIPIENTS_PER_STATEMENT):
            batch = lacking[start : start + _RECIPIENTS_PER_STATEMENT]
            found.update(await _recipient_rows(session, batch))
    return found


async def _recipient_rows(session: AsyncSession, user_ids: list[int]) -> dict[int, Any]:
    rows = await session.execute(
        select(_USERS.c.id, _USERS.c.email, _USERS.c.full_name, *_PREFERENCES.c)
        .outerjoin(_PREFERENCES, _PREFERENCES.c.user_id == _USERS.c.id)
        .where(_USERS.c.id.in_(user_ids))
    )
    return {row.id: _Recipient(row) for row in rows}


class _Recipient:
    """A row of `_recipient_rows` read as `_RECIPIENT`'s: `user_id` is the user's id, whether
    or not they have preferences yet."""

    __slots__ = ("choices", "email", "full_name", "signing_key", "user_id")

    def __init__(self, row: Any) -> None:
        self.user_id, self.email, self.full_name = row.id, row.email, row.full_name
        self.signing_key, self.choices = row.signing_key, row.choices


async def _course_title(session: AsyncSession, payload: dict[str, Any]) -> str:
    title = payload.get("course_title")
    if title:
        return str(title)
    return str(await session.scalar(select(Course.title).where(Course.id == payload["course_id"])))


def _mail_of(event: dict[str, Any]) -> tuple[MailKind, dict[str, Any]] | None:
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


async def mail_for_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """The event subscriber: a message for each event that warrants one, to its learner. A
    command that records many (a roster file) reads the learners and writes the messages in a
    few statements for them all."""
    wanted = [
        (event, mail)
        for event in events
        if event["user_id"] is not None and (mail := _mail_of(event)) is not None
    ]
    if len(wanted) == 1:
        event, (kind, context) = wanted[0]
        await enqueue(
            session,
            user_id=event["user_id"],
            institution_id=event["institution_id"],
            kind=kind,
            context={"course_title": await _course_title(session, event["payload"]), **context},
        )
        return
    if not wanted:
        return
    settings = get_settings()
    recipients = await _recipients(session, {event["user_id"] for event, _ in wanted})
    messages = []
    for event, (kind, context) in wanted:
        title = await _course_title(session, event["payload"])
        message = _message(
            settings,
            recipients.get(event["user_id"]),
            event["institution_id"],
            kind,
            {"course_title": title, **context},
        )
        if message is not None:
            messages.append(message)
    if messages:
        await session.execute(insert(_OUTBOX), messages)


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
