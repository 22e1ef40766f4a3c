"""Commands behind e-mailed links: a password reset, an e-mail change confirmed from the new
address. Each link is single-use and expires; only its token's digest is stored."""

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.service import email_key, user_by_email
from lectern.mail.outbox import enqueue, origin
from lectern.models import AccountLink, ApiToken, AuthSession, User
from lectern.models.accounts import LinkPurpose
from lectern.models.base import utcnow
from lectern.models.mail import MailKind
from lectern.platform.actor import Actor
from lectern.platform.config import get_settings
from lectern.platform.errors import Conflict, Invalid
from lectern.platform.tokens import new_token, token_digest

LINK_LIFETIME = timedelta(hours=1)
_DEAD_LINK = (
    "This link is not valid: it has expired, was used already, or was replaced by a newer one."
)


async def _new_link(
    session: AsyncSession, user_id: int, purpose: LinkPurpose, new_email: str | None = None
) -> str:
    """A new link of `purpose` for the person; any earlier one of theirs stops working."""
    now = utcnow()
    await _close_links(session, user_id, purpose)
    token = new_token()
    session.add(
        AccountLink(
            token_hash=token_digest(token),
            user_id=user_id,
            purpose=purpose,
            new_email=new_email,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.flush()
    return token


async def _close_links(session: AsyncSession, user_id: int, purpose: LinkPurpose) -> None:
    await session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user_id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


async def _use_link(session: AsyncSession, token: str, purpose: LinkPurpose) -> AccountLink:
    """Use a live link once: of two uses at the same moment, one finds it used."""
    now = utcnow()
    used = await session.scalar(
        update(AccountLink)
        .where(
            AccountLink.token_hash == token_digest(token),
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(AccountLink)
    )
    if used is None:
        raise Invalid(_DEAD_LINK, slug="dead-link")
    return used


def _minutes() -> int:
    return int(LINK_LIFETIME.total_seconds() // 60)


async def request_password_reset(session: AsyncSession, email: str) -> None:
    """E-mail a reset link to the account of `email`, if there is one that is not suspended;
    the caller learns nothing either way."""
    user = await user_by_email(session, email)
    if user is None or user.suspended_at is not None:
        return
    token = await _new_link(session, user.id, LinkPurpose.PASSWORD_RESET)
    await enqueue(
        session,
        user_id=user.id,
        institution_id=user.institution_id,
        kind=MailKind.PASSWORD_RESET,
        context={
            "link": f"{origin(get_settings())}/reset-password?token={token}",
            "minutes": _minutes(),
        },
    )


async def reset_password(session: AsyncSession, token: str, *, password_hash: str) -> None:
    """Set the password through a live reset link; every session and token of the person ends."""
    link = await _use_link(session, token, LinkPurpose.PASSWORD_RESET)
    await session.execute(
        update(User).where(User.id == link.user_id).values(password_hash=password_hash)
    )
    for table in (AuthSession, ApiToken):
        await session.execute(delete(table).where(table.user_id == link.user_id))


async def _taken(session: AsyncSession, email: str, user_id: int) -> bool:
    owner = await session.scalar(select(User.id).where(User.email_key == email_key(email)))
    return owner is not None and owner != user_id


async def request_email_change(session: AsyncSession, actor: Actor, new_email: str) -> None:
    """E-mail a confirmation link to the new address; the address changes once it is used."""
    if email_key(new_email) == email_key(actor.email):
        raise Invalid("That is already your e-mail address.", slug="same-email")
    if await _taken(session, new_email, actor.id):
        raise Conflict("An account with this e-mail already exists.", slug="email-taken")
    token = await _new_link(session, actor.id, LinkPurpose.EMAIL_CHANGE, new_email=new_email)
    await enqueue(
        session,
        user_id=actor.id,
        institution_id=actor.institution_id,
        kind=MailKind.EMAIL_CHANGE,
        to=new_email,
        context={
            "link": f"{origin(get_settings())}/confirm-email?token={token}",
            "new_email": new_email,
            "minutes": _minutes(),
        },
    )


async def confirm_email_change(session: AsyncSession, token: str) -> User:
    """Make the link's new address the person's, and tell the old address."""
    link = await _use_link(session, token, LinkPurpose.EMAIL_CHANGE)
    new_email = link.new_email or ""
    user = await session.get_one(User, link.user_id)
    if await _taken(session, new_email, user.id):
        raise Conflict("An account with this e-mail already exists.", slug="email-taken")
    old_email = user.email
    await enqueue(
        session,
        user_id=user.id,
        institution_id=user.institution_id,
        kind=MailKind.EMAIL_CHANGED,
        to=old_email,
        context={"new_email": new_email},
    )
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(email=new_email, email_key=email_key(new_email))
    )
    await session.refresh(user)
    return user
