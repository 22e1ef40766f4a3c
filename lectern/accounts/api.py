from datetime import timedelta
from typing import Any

from fastapi import Depends, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from lectern.accounts import credentials, service
from lectern.accounts.passwords import require_strong_password
from lectern.accounts.ratelimit import LoginThrottle
from lectern.accounts.schemas import (
    CredentialOut,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChangeIn,
    RegisterIn,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UserOut,
)
from lectern.accounts.security import dummy_hash, hash_password, needs_rehash, verify_password
from lectern.models import Institution, User
from lectern.models.base import utcnow
from lectern.platform.actor import Actor
from lectern.platform.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    admin_actor,
    bearer_token,
    credential_digest,
    current_actor,
    optional_actor,
)
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import Forbidden, Unauthorized
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId

router = api_router(prefix="/api/v1", tags=["accounts"])
# Described in the OpenAPI document, as problem details like every error.
SIGN_IN_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Wrong e-mail or password."},
    403: {"description": "The account is suspended."},
    429: {"description": "Too many sign-in attempts for this address or client; wait."},
}


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def register(body: RegisterIn, db: Database = Depends(get_database)) -> User:
    require_strong_password(body.password, user_inputs=(body.email, body.full_name))
    password_hash = await run_in_threadpool(hash_password, body.password)
    return await db.run(
        lambda s: service.register_student(
            s,
            institution_slug=body.institution,
            email=str(body.email),
            password_hash=password_hash,
            full_name=body.full_name,
        )
    )


def client_address(request: Request) -> str:
    # uvicorn puts a trusted proxy's X-Forwarded-For here (LECTERN_FORWARDED_ALLOW_IPS).
    return request.client.host if request.client else "unknown"


async def _authenticate(request: Request, db: Database, body: LoginIn) -> User:
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request)
    throttle.admit(address, body.email)
    async with db.session() as session:
        user = await service.user_by_email(session, body.email)
    password_hash = user.password_hash if user else dummy_hash()
    valid = await run_in_threadpool(verify_password, password_hash, body.password)
    if user is None or not valid:
        throttle.failed(address, body.email)
        raise Unauthorized("Wrong e-mail or password.", slug="bad-credentials")
    if user.suspended_at is not None:
        raise Forbidden(
            "This account is suspended; ask your institution's admin.", slug="suspended"
        )
    if needs_rehash(user.password_hash):
        old_hash = user.password_hash
        new_hash = await run_in_threadpool(hash_password, body.password)
        await db.run(
            lambda s: credentials.rehash_password(s, user.id, old_hash=old_hash, new_hash=new_hash)
        )
    return user


def set_session_cookies(
    response: Response, token: str, csrf: str, *, days: int, secure: bool
) -> None:
    """The cookies of a browser session that start_session began."""
    max_age = days * 86400
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="lax", secure=secure
    )


@router.post("/auth/login", response_model=LoginOut, responses=SIGN_IN_PROBLEMS)
async def login(
    body: LoginIn, request: Request, response: Response, db: Database = Depends(get_database)
) -> LoginOut:
    user = await _authenticate(request, db, body)
    days = db.settings.session_days
    token, csrf = await db.run(lambda s: service.start_session(s, user, days=days))
    set_session_cookies(response, token, csrf, days=days, secure=db.settings.cookie_secure)
    return LoginOut.model_validate(
        {**UserOut.model_validate(user).model_dump(), "csrf_token": csrf}
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    response: Response,
    # Checks the CSRF token of a live session, so no other site can log the user out.
    _actor: Actor | None = Depends(optional_actor),
    db: Database = Depends(get_database),
) -> None:
    if token := bearer_token(request):
        await db.run(lambda s: credentials.end_api_token(s, token))
    if cookie := request.cookies.get(SESSION_COOKIE):
        await db.run(lambda s: service.end_session(s, cookie))
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.post(
    "/auth/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenOut,
    responses=SIGN_IN_PROBLEMS,
)
async def create_token(
    body: TokenIn, request: Request, db: Database = Depends(get_database)
) -> TokenOut:
    user = await _authenticate(request, db, body)
    expires_at = utcnow() + timedelta(days=db.settings.token_days)
    token = await db.run(
        lambda s: service.issue_api_token(s, user, expires_at=expires_at, name=body.name)
    )
    return TokenOut(token=token, name=body.name, expires_at=expires_at)


@router.get("/me/tokens", response_model=list[TokenInfoOut])
async def my_tokens(
    request: Request,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> list[TokenInfoOut]:
    return await credentials.my_tokens(session, actor, current_digest=credential_digest(request))


@router.get("/me/sessions", response_model=list[CredentialOut])
async def my_sessions(
    request: Request,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> list[CredentialOut]:
    return await credentials.my_sessions(session, actor, current_digest=credential_digest(request))


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(
    token_id: PathId, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: credentials.revoke_token(s, actor, token_id))


@router.delete("/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: PathId, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: credentials.revoke_session(s, actor, session_id))


async def confirm_current_password(
    request: Request, db: Database, actor: Actor, password: str
) -> None:
    """A change to the account needs its password, counted like a sign-in's."""
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request)
    throttle.admit(address, actor.email)
    async with db.session() as session:
        current_hash = (await session.get_one(User, actor.id)).password_hash
    if not await run_in_threadpool(verify_password, current_hash, password):
        throttle.failed(address, actor.email)
        raise Forbidden("The current password is not right.", slug="wrong-password")


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChangeIn,
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
) -> None:
    """Set a new password; every other session and token of the caller ends."""
    await confirm_current_password(request, db, actor, body.current_password)
    require_strong_password(body.new_password, user_inputs=(actor.email, actor.full_name))
    password_hash = await run_in_threadpool(hash_password, body.new_password)
    keep = credential_digest(request)
    await db.run(
        lambda s: credentials.change_password(
            s, actor, password_hash=password_hash, keep_digest=keep
        )
    )


@router.get("/me", response_model=MeOut)
async def me(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> MeOut:
    user, institution = (
        await session.execute(
            select(User, Institution)
            .join(Institution, Institution.id == User.institution_id)
            .where(User.id == actor.id)
        )
    ).one()
    return MeOut.model_validate(
        {**UserOut.model_validate(user).model_dump(), "institution": institution}
    )


@router.delete("/admin/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(
    user_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: service.delete_user(s, actor, user_id))
