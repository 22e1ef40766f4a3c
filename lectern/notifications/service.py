"""In-app notifications: written with the command that causes them."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.service import record_event
from lectern.events.types import NotificationCreated
from lectern.models import Notification, User
from lectern.models.base import UTCDateTime, utcnow
from lectern.models.enums import Role
from lectern.platform.errors import NotFound
from lectern.platform.prepared import Prepared

_NOTIFICATIONS = Notification.metadata.tables["notifications"]
# Built once, on the table: the ORM's flush costs more than the insert on every command.
_WRITE = Prepared(
    insert(_NOTIFICATIONS)
    .values({name: bindparam(name) for name in ("user_id", "kind", "title", "body", "link")})
    .values(created_at=bindparam("created_at", type_=UTCDateTime()))
    .returning(*_NOTIFICATIONS.c)
)


async def notify(
    session: AsyncSession,
    *,
    user_id: int,
    institution_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
) -> None:
    """Write a notification and the event that shows it live to its reader."""
    values = {
        "user_id": user_id,
        "kind": kind,
        "title": title,
        "body": body,
        "link": link,
        "created_at": utcnow(),
    }
    notification = await _WRITE.one(session, values)
    record_event(
        session,
        NotificationCreated(**notification_payload(notification)),
        institution_id=institution_id,
        user_id=user_id,
    )


@dataclass(frozen=True, slots=True)
class Note:
    """One notification of `notify_each`."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    link: str = ""


_WRITE_EACH = (
    insert(_NOTIFICATIONS)
    .values({name: bindparam(name) for name in ("user_id", "kind", "title", "body", "link")})
    .values(created_at=bindparam("created_at", type_=UTCDateTime()))
    .returning(*_NOTIFICATIONS.c)
)


async def notify_each(session: AsyncSession, *, institution_id: int, notes: Sequence[Note]) -> None:
    """`notify` for many notifications of one institution, in one statement run for them all."""
    if not notes:
        return
    now = utcnow()
    values = [
        {
            "user_id": note.user_id,
            "kind": note.kind,
            "title": note.title,
            "body": note.body,
            "link": note.link,
            "created_at": now,
        }
        for note in notes
    ]
    written = await session.execute(_WRITE_EACH, values)
    for notification in sorted(written, key=lambda row: row.id):
        record_event(
            session,
            NotificationCreated(**notification_payload(notification)),
            institution_id=institution_id,
            user_id=notification.user_id,
        )


async def notify_admins(
    session: AsyncSession,
    *,
    institution_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
) -> None:
    admin_ids = (
        await session.scalars(
            select(User.id).where(User.institution_id == institution_id, User.role == Role.ADMIN)
        )
    ).all()
    for admin_id in admin_ids:
        await notify(
            session,
            user_id=admin_id,
            institution_id=institution_id,
            kind=kind,
            title=title,
            body=body,
            link=link,
        )


def notification_payload(notification: Any) -> dict[str, object]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


async def list_notifications(
    session: AsyncSession, user_id: int, *, unread_only: bool = False, limit: int = 50
) -> Sequence[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return (await session.scalars(query.order_by(Notification.id.desc()).limit(limit))).all()


async def mark_read(session: AsyncSession, user_id: int, notification_id: int) -> Notification:
    """Mark a notification read; marking it again changes nothing."""
    await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    notification = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )
    if notification is None:
        raise NotFound("No such notification.")
    return notification
