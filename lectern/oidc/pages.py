"""The admins' sign-in page: the institution's identity providers and their recent sign-ins."""

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Institution
from lectern.oidc import service
from lectern.oidc.sign_in import redirect_uri
from lectern.platform.actor import Actor
from lectern.platform.db import read_session
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.web.rendering import admin_page, render

router = api_router(include_in_schema=False)
SHOWN_SIGN_INS = 20


@router.get("/admin/sign-in", response_class=HTMLResponse)
async def sign_in_settings(
    request: Request,
    actor: Actor = Depends(admin_page),
    session: AsyncSession = Depends(read_session),
) -> HTMLResponse:
    providers = await service.providers_of(session, actor)
    institution = await session.get_one(Institution, actor.institution_id)
    return render(
        request,
        "admin/oidc.html",
        actor=actor,
        title="Sign-in",
        section="oidc",
        scripts=("oidc.js",),
        providers=[
            (
                provider,
                (await service.recent_sign_ins(session, actor, provider.id))[:SHOWN_SIGN_INS],
            )
            for provider in providers
        ],
        redirect_uri=redirect_uri(request),
        sign_in_url=f"{public_url(request)}/login?institution={institution.slug}",
    )
