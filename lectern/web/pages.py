"""Public pages (log in, sign up, certificate verification), the home redirect, and assets."""

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lectern.platform.routes import add_routes, api_router
from lectern.web import admin, student
from lectern.web.rendering import PageRedirect, home_of, page_actor, redirect, render

STATIC_DIR = resources.files("lectern") / "static"
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
async def plotly_bundle() -> FileResponse:
    # The charting library ships its browser bundle inside its wheel; serve that copy.
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    return FileResponse(
        str(bundle),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def _page_redirect(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRedirect)
    return redirect(exc.location)


def install_web_apps(app: FastAPI) -> None:
    """Mount the pages, their static files, and the read endpoints the pages need."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_exception_handler(PageRedirect, _page_redirect)
    for pages in (router, student.router, admin.router):
        add_routes(app, pages)
