from fastapi import Depends, Request, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from lectern.accounts import service
from lectern.accounts.actor import Actor
from lectern.accounts.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    admin_actor,
    current_actor,
    optional_actor,
)
from lectern.accounts.ratelimit import LoginThrottle
from lectern.accounts.schemas import LoginIn, LoginOut, MeOut, RegisterIn, TokenOut, UserOut
from lectern.accounts.security import dummy_hash, hash_password, verify_password
from lectern.db import Database, get_database, read_session
from lectern.errors import Unauthorized
from lectern.models import Institution, User
from lectern.routes import api_router
from lectern.schemas import PathId

router = api_router(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def register(body: RegisterIn, db: Database = Depends(get_database)) -> User:
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


async def _authenticate(request: Request, db: Database, body: LoginIn) -> User:
    throttle: LoginThrottle = request.app.state.login_throttle
    throttle.check(request.client.host if request.client else "unknown", body.email)
    async with db.session() as session:
        user = await service.user_by_email(session, body.email)
    password_hash = user.password_hash if user else dummy_hash()
    valid = await run_in_threadpool(verify_password, password_hash, body.password)
    if user is None or not valid:
        raise Unauthorized("Wrong e-mail or password.", slug="bad-credentials")
    return user


@router.post("/auth/login", response_model=LoginOut)
async def login(
    body: LoginIn, request: Request, response: Response, db: Database = Depends(get_database)
) -> LoginOut:
    user = await _authenticate(request, db, body)
    days = db.settings.session_days
    token, csrf = await db.run(lambda s: service.start_session(s, user, days=days))
    secure = db.settings.cookie_secure
    max_age = days * 86400
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    # Readable by the page's script, which echoes it in X-CSRF-Token.
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="lax", secure=secure
    )
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
    if cookie := request.cookies.get(SESSION_COOKIE):
        await db.run(lambda s: service.end_session(s, cookie))
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenOut)
async def create_token(
    body: LoginIn, request: Request, db: Database = Depends(get_database)
) -> TokenOut:
    user = await _authenticate(request, db, body)
    token = await db.run(lambda s: service.issue_api_token(s, user))
    return TokenOut(token=token)


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
