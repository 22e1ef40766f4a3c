"""Templates, the navigation of each app, and the guards that send people to the right home."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from lectern.accounts.actor import Actor
from lectern.accounts.deps import optional_actor
from lectern.errors import Unauthorized

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

STUDENT_NAV = [
    ("/learn", "Dashboard", "dashboard"),
    ("/learn/catalog", "Catalog", "catalog"),
    ("/learn/progress", "Progress", "progress"),
    ("/learn/certificates", "Certificates", "certificates"),
    ("/learn/notifications", "Notifications", "notifications"),
]
ADMIN_NAV = [
    ("/admin", "Dashboard", "dashboard"),
    ("/admin/requests", "Requests", "requests"),
    ("/admin/students", "Students", "students"),
    ("/admin/courses", "Courses", "courses"),
]
INSTRUCTOR_NAV = [("/admin/courses", "Courses", "courses")]


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


async def student_page(request: Request) -> Actor:
    actor = await page_actor(request)
    if actor is None:
        raise PageRedirect(f"/login?next={request.url.path}")
    if not actor.is_student:
        raise PageRedirect(home_of(actor))
    return actor


async def admin_page(request: Request) -> Actor:
    actor = await page_actor(request)
    if actor is None:
        raise PageRedirect(f"/login?next={request.url.path}")
    if not actor.is_admin:
        raise PageRedirect(home_of(actor))
    return actor


async def staff_page(request: Request) -> Actor:
    """Admins and instructors: the course pages, which instructors may edit too."""
    actor = await page_actor(request)
    if actor is None:
        raise PageRedirect(f"/login?next={request.url.path}")
    if not actor.is_staff:
        raise PageRedirect(home_of(actor))
    return actor


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
    nav = (
        []
        if actor is None
        else STUDENT_NAV
        if actor.is_student
        else ADMIN_NAV
        if actor.is_admin
        else INSTRUCTOR_NAV
    )
    return templates.TemplateResponse(
        request,
        template,
        {
            "actor": actor,
            "title": title,
            "page": template.removesuffix(".html").replace("/", "-"),
            "section": section,
            "nav": nav,
            "page_scripts": scripts,
            "data": {"role": actor.role if actor else "", **(data or {})},
            **context,
        },
    )
