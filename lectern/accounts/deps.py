"""Who is calling: a Bearer token or a session cookie, with CSRF defence for the cookie."""

import secrets

from fastapi import Depends, Request
from sqlalchemy import select

from lectern.accounts.actor import Actor
from lectern.accounts.security import token_digest
from lectern.db import get_database
from lectern.errors import Forbidden, Unauthorized
from lectern.models import ApiToken, AuthSession, User
from lectern.models.base import utcnow

SESSION_COOKIE = "lectern_session"
CSRF_COOKIE = "lectern_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def optional_actor(request: Request) -> Actor | None:
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    database = get_database(request)
    async with database.session() as session:
        # One statement needs no transaction: autocommit spares the BEGIN and ROLLBACK trips.
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        if scheme.lower() == "bearer" and credential:
            user = await session.scalar(
                select(User)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == token_digest(credential.strip()))
            )
            if user is None:
                raise Unauthorized("The token is not valid.")
        elif cookie := request.cookies.get(SESSION_COOKIE):
            row = (
                await session.execute(
                    select(User, AuthSession.csrf_token)
                    .join(AuthSession, AuthSession.user_id == User.id)
                    .where(
                        AuthSession.token_hash == token_digest(cookie),
                        AuthSession.expires_at > utcnow(),
                    )
                )
            ).first()
            if row is None:
                return None
            user, csrf_token = row
            if request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not secrets.compare_digest(sent.encode(), csrf_token.encode()):
                    raise Forbidden(
                        "A cookie-authenticated change needs the X-CSRF-Token header.",
                        slug="csrf",
                    )
        else:
            return None
        actor = Actor.of(user)
    request.state.actor = actor
    return actor


async def current_actor(actor: Actor | None = Depends(optional_actor)) -> Actor:
    if actor is None:
        raise Unauthorized("Log in or send a Bearer token.")
    return actor


async def admin_actor(actor: Actor = Depends(current_actor)) -> Actor:
    if not actor.is_admin:
        raise Forbidden("Only an admin can do this.")
    return actor


async def staff_actor(actor: Actor = Depends(current_actor)) -> Actor:
    if not actor.is_staff:
        raise Forbidden("Only admins and instructors can do this.")
    return actor


async def student_actor(actor: Actor = Depends(current_actor)) -> Actor:
    if not actor.is_student:
        raise Forbidden("Only students can do this.")
    return actor
