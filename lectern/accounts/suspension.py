"""Admins suspend and restore accounts. A suspended person cannot sign in, and the sign-in check
(lectern.platform.auth) refuses their sessions and tokens from that moment; suspending also
ends them, so that a restore does not bring old credentials back."""

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import ApiToken, AuthSession, User
from lectern.models.base import utcnow
from lectern.platform.actor import Actor
from lectern.platform.errors import Forbidden, NotFound


async def _user_for(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """A person the admin may act on; another institution's is as unknown as one that never was."""
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None or (
        user.institution_id != actor.institution_id and not actor.is_platform_admin
    ):
        raise NotFound("No such user.")
    return user


async def suspend_user(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """Suspend an account (again: no change); the admin's own is refused."""
    if user_id == actor.id:
        raise Forbidden("You cannot suspend your own account.", slug="suspend-self")
    user = await _user_for(session, actor, user_id)
    if user.suspended_at is None:
        await session.execute(update(User).where(User.id == user_id).values(suspended_at=utcnow()))
        for table in (AuthSession, ApiToken):
            await session.execute(delete(table).where(table.user_id == user_id))
        await session.refresh(user)
    return user


async def restore_user(session: AsyncSession, actor: Actor, user_id: int) -> User:
    """Let a suspended person sign in again (a restored one: no change)."""
    user = await _user_for(session, actor, user_id)
    if user.suspended_at is not None:
        await session.execute(update(User).where(User.id == user_id).values(suspended_at=None))
        await session.refresh(user)
    return user
