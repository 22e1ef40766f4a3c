"""Account pages: asking for and using a password-reset link, confirming a new e-mail address,
and the student's profile (name, profile, e-mail, password, mail preferences)."""

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts import profile
from lectern.mail.compose import CHOOSABLE
from lectern.mail.preferences import my_choices
from lectern.platform.actor import Actor
from lectern.platform.db import read_session
from lectern.platform.routes import api_router
from lectern.web.rendering import page_actor, render, student_page

router = api_router(include_in_schema=False)
SCRIPTS = ("account.js",)
LinkToken = Annotated[str, Query(max_length=200)]
KIND_LABELS = {
    "request_reviewed": "My access request was approved or rejected",
    "enrolled": "Someone enrolled me in a course",
    "enrollment_expiring": "My access to a course ends soon",
    "certificate_issued": "I earned a certificate",
}
CHOICE_LABELS = {"immediately": "At once", "daily_digest": "In a daily digest", "none": "Never"}


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_password(request: Request, token: LinkToken = "") -> HTMLResponse:
    """Without a token: ask for a link. With the link's token: choose the new password."""
    return render(
        request,
        "account/reset_password.html",
        actor=await page_actor(request),
        title="Reset your password",
        scripts=SCRIPTS,
        data={"token": token},
        token=token,
    )


@router.get("/confirm-email", response_class=HTMLResponse)
async def confirm_email(request: Request, token: LinkToken = "") -> HTMLResponse:
    return render(
        request,
        "account/confirm_email.html",
        actor=await page_actor(request),
        title="Confirm your new e-mail address",
        scripts=SCRIPTS,
        data={"token": token},
    )


@router.get("/learn/profile", response_class=HTMLResponse)
async def profile_page(
    request: Request,
    actor: Actor = Depends(student_page),
    session: AsyncSession = Depends(read_session),
) -> HTMLResponse:
    return render(
        request,
        "account/profile.html",
        actor=actor,
        title="Profile",
        section="profile",
        scripts=SCRIPTS,
        profile=await profile.profile_of(session, actor),
        choices=await my_choices(session, actor),
        kinds=[(kind.value, KIND_LABELS[kind.value]) for kind in CHOOSABLE],
        choice_labels=CHOICE_LABELS,
    )
