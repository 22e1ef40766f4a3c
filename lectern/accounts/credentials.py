"""A person's own tokens and sessions: listed, revoked one by one, or all at a password change."""

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.schemas import CredentialOut, TokenInfoOut
from lectern.models import ApiToken, AuthSession, User
from lectern.models.base import utcnow
from lectern.platform.actor import Actor
from lectern.platform.errors import NotFound
from lectern.platform.tokens import token_digest


async def my_tokens(
    session: AsyncSession, actor: Actor, *, current_digest: str | None
) -> list[TokenInfoOut]:
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == actor.id, ApiToken.expires_at > utcnow())
        .order_by(ApiToken.id)
    )
    return [
        TokenInfoOut(
            id=token.id,
            name=token.name,
            created_at=token.created_at,
            expires_at=token.expires_at,
            current=token.token_hash == current_digest,
        )
        for token in rows
    ]


async def my_sessions(
    session: AsyncSession, actor: Actor, *, current_digest: str | None
) -> list[CredentialOut]:
    rows = await session.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == actor.id, AuthSession.expires_at > utcnow())
        .order_by(AuthSession.id)
    )
    return [
        CredentialOut(
            id=row.id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            current=row.token_hash == current_digest,
        )
        for row in rows
    ]


async def revoke_token(session: AsyncSession, actor: Actor, token_id: int) -> None:
    """End one of the caller's tokens; another person's is as unknown as one that never was."""
    deleted = await session.scalar(
        delete(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == actor.id)
        .returning(ApiToken.id)
    )
    if deleted is None:
        raise NotFound("No such token.")


async def revoke_session(session: AsyncSession, actor: Actor, session_id: int) -> None:
    """End one of the caller's sessions; another person's is as unknown as one that never was."""
    deleted = await session.scalar(
        delete(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.user_id == actor.id)
        .returning(AuthSession.id)
    )
    if deleted is None:
        raise NotFound("No such session.")


async def end_api_token(session: AsyncSession, token: str) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.token_hash == token_digest(token)))


async def rehash_password(
    session: AsyncSession, user_id: int, *, old_hash: str, new_hash: str
) -> None:
    """Replace a legacy hash the password just verified against by Lectern's own; a no-op if
    the hash changed meanwhile (another sign-in replaced it, or the password was changed)."""
    await session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == old_hash)
        .values(password_hash=new_hash)
    )


async def change_password(
    session: AsyncSession, actor: Actor, *, password_hash: str, keep_digest: str | None
) -> None:
    """Set a new password and end every other session and token of the person, keeping the
    one the change came through."""
    await session.execute(
        update(User).where(User.id == actor.id).values(password_hash=password_hash)
    )
    for table in (AuthSession, ApiToken):
        await session.execute(
            delete(table).where(
                table.user_id == actor.id,
                table.token_hash != (keep_digest or ""),
            )
        )
