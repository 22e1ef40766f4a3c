"""People manage their accounts: password reset and e-mail change by e-mailed link, name and
student profile; admins suspend and restore accounts."""

from fastapi import Depends, Request, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from lectern.accounts import links, profile, suspension
from lectern.accounts.api import client_address, confirm_current_password
from lectern.accounts.passwords import require_strong_password
from lectern.accounts.ratelimit import LoginThrottle
from lectern.accounts.schemas import (
    AccountStateOut,
    EmailChangeConfirmIn,
    EmailChangeIn,
    NameChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfileIn,
    ProfileOut,
    UserOut,
)
from lectern.accounts.security import hash_password
from lectern.models import StudentProfile, User
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor, current_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId

router = api_router(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    responses={429: {"description": "Too many reset links asked for this address lately."}},
)
async def request_password_reset(
    body: PasswordResetIn, request: Request, db: Database = Depends(get_database)
) -> None:
    """E-mail a single-use reset link valid for an hour, if the address has an account; the
    answer is the same either way."""
    throttle: LoginThrottle = request.app.state.login_throttle
    throttle.reset_asked(client_address(request), body.email)
    await db.run(lambda s: links.request_password_reset(s, body.email))


@router.post("/auth/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, db: Database = Depends(get_database)
) -> None:
    """Set a new password with a reset link; every session and token of the person ends."""
    require_strong_password(body.new_password)
    password_hash = await run_in_threadpool(hash_password, body.new_password)
    await db.run(lambda s: links.reset_password(s, body.token, password_hash=password_hash))


@router.post("/me/email", status_code=status.HTTP_202_ACCEPTED)
async def request_email_change(
    body: EmailChangeIn,
    request: Request,
    actor: Actor = Depends(current_actor),
    db: Database = Depends(get_database),
) -> None:
    """E-mail a link to the new address; the address changes when it is followed."""
    await confirm_current_password(request, db, actor, body.current_password)
    await db.run(lambda s: links.request_email_change(s, actor, body.email))


@router.post("/auth/email-change/confirm", response_model=UserOut)
async def confirm_email_change(
    body: EmailChangeConfirmIn, db: Database = Depends(get_database)
) -> User:
    """Make the new address the account's; the old address is told."""
    return await db.run(lambda s: links.confirm_email_change(s, body.token))


@router.patch("/me", response_model=UserOut)
async def rename(
    body: NameChangeIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> User:
    return await db.run(lambda s: profile.rename(s, actor, body.full_name))


@router.get("/me/profile", response_model=ProfileOut)
async def my_profile(
    actor: Actor = Depends(current_actor), session: AsyncSession = Depends(read_session)
) -> StudentProfile:
    return await profile.profile_of(session, actor)


@router.patch("/me/profile", response_model=ProfileOut)
async def update_my_profile(
    body: ProfileIn, actor: Actor = Depends(current_actor), db: Database = Depends(get_database)
) -> StudentProfile:
    return await db.run(
        lambda s: profile.update_profile(
            s, actor, bio=body.bio, languages=body.languages, interests=body.interests
        )
    )


@router.post("/admin/users/{user_id}/suspend", response_model=AccountStateOut)
async def suspend(
    user_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> User:
    """Suspend an account: it cannot sign in, and its sessions and tokens end at once."""
    return await db.run(lambda s: suspension.suspend_user(s, actor, user_id))


@router.post("/admin/users/{user_id}/restore", response_model=AccountStateOut)
async def restore(
    user_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> User:
    """Let a suspended account sign in again."""
    return await db.run(lambda s: suspension.restore_user(s, actor, user_id))
