"""Templates, the navigation of each app, and the guards that send people to the right home."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from lectern.platform.actor import Actor
from lectern.platform.auth import optional_actor
from lectern.platform.errors import Unauthorized
from lectern.web.assets import asset_url

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.globals["asset"] = asset_url
# Pages load only Lectern's own scripts; inline style attributes are what the scripts set.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

STUDENT_NAV = [
    ("/learn", "Dashboard", "dashboard"),
    ("/learn/catalog", "Catalog", "catalog"),
    ("/learn/progress", "Progress", "progress"),
    ("/learn/certificates", "Certificates", "certificates"),
    ("/learn/notifications", "Notifications", "notifications"),
    ("/learn/profile", "Profile", "profile"),
]
ADMIN_NAV = [
    ("/admin", "Dashboard", "dashboard"),
    ("/admin/requests", "Requests", "requests"),
    ("/admin/students", "Students", "students"),
    ("/admin/courses", "Courses", "courses"),
    ("/admin/imports", "Imports", "imports"),
    ("/admin/consistency", "Consistency", "consistency"),
    ("/admin/mail", "Mail", "mail"),
    ("/admin/roster", "Roster", "roster"),
    ("/admin/reports", "Reports", "reports"),
    ("/admin/lti", "LTI", "lti"),
    ("/admin/webhooks", "Webhooks", "webhooks"),
    ("/admin/xapi", "xAPI", "xapi"),
    ("/admin/sign-in", "Sign-in", "oidc"),
]
# Instructors reach the courses they are staff of, and those courses' requests.
INSTRUCTOR_NAV = [
    ("/admin/requests", "Requests", "requests"),
    ("/admin/courses", "Courses", "courses"),
]
# Navigation entries that show a live count, and what the count means to a screen reader.
COUNTED = {"requests": "pending", "notifications": "unread"}


class PageRedirect(Exception):
    """Raised by a page guard; rendered as a 303 to `location`."""

    def __init__(self, location: str) -> None:
        self.location = location


def home_of(actor: Actor | None) -> str:
    if actor is None:
        return "/login"
    if actor.is_student:
        return "/learn"
    return "/admin" if actor.is_admin else "/admin/courses"


async def page_actor(request: Request) -> Actor | None:
    try:
        return await optional_actor(request)
    except Unauthorized:
        return None


async def _page_for(request: Request, allowed: Callable[[Actor], bool]) -> Actor:
    actor = await page_actor(request)
    if actor is None:
        raise PageRedirect(f"/login?next={request.url.path}")
    if not allowed(actor):
        raise PageRedirect(home_of(actor))
    return actor


async def student_page(request: Request) -> Actor:
    return await _page_for(request, lambda actor: actor.is_student)


async def admin_page(request: Request) -> Actor:
    return await _page_for(request, lambda actor: actor.is_admin)


async def staff_page(request: Request) -> Actor:
    """Admins and instructors: the course pages, which instructors may edit too."""
    return await _page_for(request, lambda actor: actor.is_staff)


def _nav_for(actor: Actor | None) -> list[tuple[str, str, str]]:
    if actor is None:
        return []
    if actor.is_student:
        return STUDENT_NAV
    return ADMIN_NAV if actor.is_admin else INSTRUCTOR_NAV


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def render(
    request: Request,
    template: str,
    *,
    actor: Actor | None,
    title: str,
    section: str = "",
    scripts: tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        template,
        {
            "actor": actor,
            "title": title,
            "page": template.removesuffix(".html").replace("/", "-"),
            "section": section,
            "nav": _nav_for(actor),
            "counted": COUNTED,
            "page_scripts": scripts,
            "data": {"role": actor.role if actor else "", **(data or {})},
            **context,
        },
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
