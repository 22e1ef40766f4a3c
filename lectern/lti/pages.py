"""The admins' LTI page: the URLs to give a platform, the platforms, their launches and scores."""

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.lti import platforms
from lectern.platform.actor import Actor
from lectern.platform.db import read_session
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.web.rendering import admin_page, render

pages = api_router(include_in_schema=False)
SHOWN = 10


@pages.get("/admin/lti", response_class=HTMLResponse)
async def lti_page(
    request: Request,
    actor: Actor = Depends(admin_page),
    session: AsyncSession = Depends(read_session),
) -> HTMLResponse:
    registered = await platforms.list_platforms(session, actor)
    details = [
        (
            platform,
            await platforms.recent_launches(session, actor, platform.id, limit=SHOWN),
            await platforms.recent_scores(session, actor, platform.id, limit=SHOWN),
        )
        for platform in registered
    ]
    return render(
        request,
        "admin/lti.html",
        actor=actor,
        title="LTI",
        section="lti",
        scripts=("lti.js",),
        base=public_url(request),
        details=details,
    )
