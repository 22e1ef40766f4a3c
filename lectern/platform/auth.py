"""Who is calling: a Bearer token or a session cookie, with CSRF defence for the cookie."""

import secrets
from dataclasses import fields
from typing import Any

from fastapi import Request
from sqlalchemy import bindparam, select

from lectern.models import User
from lectern.models.base import UTCDateTime, utcnow
from lectern.platform.actor import Actor
from lectern.platform.db import database_of
from lectern.platform.errors import Forbidden, Unauthorized
from lectern.platform.prepared import Prepared
from lectern.platform.tokens import token_digest

SESSION_COOKIE = "lectern_session"
CSRF_COOKIE = "lectern_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Where a request keeps its caller once known (a page may ask twice). Not `request.state`: a
# miss there raises and catches an AttributeError, on every request.
_ACTOR_KEY = "lectern.actor"


_TABLES = User.metadata.tables
_USERS, _TOKENS, _SESSIONS = _TABLES["users"], _TABLES["api_tokens"], _TABLES["auth_sessions"]
_ACTOR = [_USERS.c[field.name] for field in fields(Actor)]
# Built once: every request that carries a credential runs one of these. A suspended
# person's credentials find nobody, in the same single read.
_BY_TOKEN = Prepared(
    select(*_ACTOR)
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(
        _TOKENS.c.token_hash == bindparam("digest"),
        _TOKENS.c.expires_at > bindparam("now", type_=UTCDateTime()),
        _USERS.c.suspended_at.is_(None),
    )
)
_BY_SESSION = Prepared(
    select(*_ACTOR, _SESSIONS.c.csrf_token)
    .join(_SESSIONS, _SESSIONS.c.user_id == _USERS.c.id)
    .where(
        _SESSIONS.c.token_hash == bindparam("digest"),
        _SESSIONS.c.expires_at > bindparam("now", type_=UTCDateTime()),
        _USERS.c.suspended_at.is_(None),
    )
)


def _first(rows: list[Any]) -> Any | None:
    return rows[0] if rows else None


def bearer_token(request: Request) -> str | None:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" and credential.strip() else None


def credential_digest(request: Request) -> str | None:
    """The stored digest of the credential a request authenticates with: its Bearer token,
    else its session cookie."""
    credential = bearer_token(request) or request.cookies.get(SESSION_COOKIE)
    return token_digest(credential) if credential else None


async def optional_actor(request: Request) -> Actor | None:
    cached: Actor | None = request.scope.get(_ACTOR_KEY)
    if cached is not None:
        return cached
    if token := bearer_token(request):
        row = _first(
            await database_of(request).read(
                _BY_TOKEN, {"digest": token_digest(token), "now": utcnow()}
            )
        )
        if row is None:
            raise Unauthorized("The token is not valid, or has expired or been revoked.")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        row = _first(
            await database_of(request).read(
                _BY_SESSION, {"digest": token_digest(cookie), "now": utcnow()}
            )
        )
        if row is None:
            return None
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not secrets.compare_digest(sent.encode(), row.csrf_token.encode()):
                raise Forbidden(
                    "A cookie-authenticated change needs the X-CSRF-Token header.",
                    slug="csrf",
                )
    else:
        return None
    actor = Actor(*row[: len(_ACTOR)])
    request.scope[_ACTOR_KEY] = actor
    return actor


# Each role's dependency authenticates by itself rather than depending on `current_actor`:
# FastAPI resolves every level of a dependency chain on every request.
async def current_actor(request: Request) -> Actor:
    actor = await optional_actor(request)
    if actor is None:
        raise Unauthorized("Log in or send a Bearer token.")
    return actor


async def admin_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if not actor.is_admin:
        raise Forbidden("Only an admin can do this.")
    return actor


async def staff_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if not actor.is_staff:
        raise Forbidden("Only admins and instructors can do this.")
    return actor


async def student_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if not actor.is_student:
        raise Forbidden("Only students can do this.")
    return actor


async def platform_admin_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if not actor.is_platform_admin:
        raise Forbidden("Only a platform admin can do this.")
    return actor
