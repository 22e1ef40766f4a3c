"""Public pages (log in, sign up, certificate verification), the home redirect, and assets."""

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from lectern.platform.problems import http_error
from lectern.platform.routes import add_routes, api_router
from lectern.web import admin, student
from lectern.web.assets import StaticAssets, plotly_bundle, plotly_response
from lectern.web.rendering import PageRedirect, home_of, page_actor, redirect, render

router = api_router(include_in_schema=False)


@router.get("/")
async def root(request: Request) -> RedirectResponse:
    return redirect(home_of(await page_actor(request)))


@router.get("/login", response_model=None)
async def login(request: Request) -> Response:
    actor = await page_actor(request)
    if actor is not None:
        return redirect(home_of(actor))
    return render(request, "login.html", actor=None, title="Log in", scripts=("auth.js",))


@router.get("/signup", response_model=None)
async def signup(request: Request, institution: str = "") -> Response:
    actor = await page_actor(request)
    if actor is not None:
        return redirect(home_of(actor))
    return render(
        request,
        "signup.html",
        actor=None,
        title="Sign up",
        scripts=("auth.js",),
        institution=institution,
    )


@router.get("/verify/{code}", response_class=HTMLResponse)
async def verify_certificate(request: Request, code: str) -> HTMLResponse:
    actor = await page_actor(request)
    return render(
        request,
        "verify.html",
        actor=actor,
        title="Certificate verification",
        scripts=("verify.js",),
        data={"code": code},
    )


@router.get("/assets/plotly.min.js")
async def charting_bundle(request: Request) -> Response:
    # The charting library ships its browser bundle inside its wheel; serve that copy.
    return plotly_response(request, await asyncio.to_thread(plotly_bundle))


async def _page_redirect(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRedirect)
    return redirect(exc.location)


def wants_page(request: Request) -> bool:
    """A browser asking for a page, not a program calling the API."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def _unknown_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code != 404 or not wants_page(request):
        return await http_error(request, exc)
    actor = await page_actor(request)
    page = render(
        request, "not_found.html", actor=actor, title="Page not found", home=home_of(actor)
    )
    page.status_code = 404
    return page


def install_web_apps(app: FastAPI) -> None:
    """Mount the pages, their static files, and the read endpoints the pages need."""
    app.mount("/static", StaticAssets(), name="static")
    app.add_exception_handler(PageRedirect, _page_redirect)
    app.add_exception_handler(HTTPException, _unknown_page)
    for pages in (router, student.router, admin.router):
        add_routes(app, pages)
