"""LTI routes: the protocol's (login, launch, key set, deep linking), for platforms and the
browsers they send, and the admins' API over their institution's platforms."""

from typing import Annotated

from fastapi import Depends, Form, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from prometheus_client import Counter
from pydantic import ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.lti import deep_linking, launch, platforms
from lectern.lti.claims import DEEP_LINKING_REQUEST
from lectern.lti.keys import PlatformKeySets, published_keys, rotate_tool_key
from lectern.lti.schemas import (
    ConnectionOut,
    LaunchOut,
    PlatformChange,
    PlatformIn,
    PlatformOut,
    RotatedOut,
    ScoreOut,
    ToolOut,
)
from lectern.models import LtiLaunch, LtiPlatform
from lectern.platform.actor import Actor
from lectern.platform.auth import CSRF_COOKIE, SESSION_COOKIE, admin_actor, platform_admin_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import LecternError
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.platform.schemas import Input, PathId
from lectern.web.rendering import CONTENT_SECURITY_POLICY, render

router = api_router(prefix="/api/v1", tags=["lti"])
protocol = api_router(tags=["lti"])
pages = api_router(include_in_schema=False)

STATE_COOKIE = "lectern_lti_state"
LAUNCHES = Counter("lectern_lti_launches", "LTI launches, by outcome.", ["outcome"])
Limit = Annotated[int, Query(ge=1, le=200)]
Short = Annotated[str, Field(min_length=1, max_length=1000)]


class _PlatformForm(Input):
    # Platforms add fields of their own (Canvas: canvas_region, lti_storage_target, …).
    model_config = ConfigDict(**{**Input.model_config, "extra": "ignore"})


class LoginForm(_PlatformForm):
    iss: Short
    login_hint: Short
    target_link_uri: Short
    lti_message_hint: str | None = Field(default=None, max_length=4000)
    client_id: str | None = Field(default=None, min_length=1, max_length=255)


class LaunchForm(_PlatformForm):
    id_token: str = Field(min_length=1, max_length=64_000)
    state: str = Field(min_length=1, max_length=200)


class PickForm(Input):
    token: str = Field(min_length=1, max_length=200)
    course_id: str = Field(pattern=r"^[1-9][0-9]{0,8}$")


def key_sets(request: Request) -> PlatformKeySets:
    sets: PlatformKeySets | None = getattr(request.app.state, "lti_key_sets", None)
    if sets is None:
        sets = request.app.state.lti_key_sets = PlatformKeySets()
    return sets


# --- the protocol -------------------------------------------------------------------------


@protocol.get("/lti/jwks")
async def tool_key_set(db: Database = Depends(get_database)) -> dict[str, object]:
    """Lectern's public keys (JWKS): platforms check its Deep Linking answers and AGS token
    requests against them."""
    return await db.run(published_keys)


async def _login(request: Request, db: Database, form: LoginForm) -> RedirectResponse:
    base = public_url(request)
    started = await db.run(
        lambda s: launch.start_login(
            s,
            issuer=form.iss,
            login_hint=form.login_hint,
            target_link_uri=form.target_link_uri,
            lti_message_hint=form.lti_message_hint,
            client_id=form.client_id,
            launch_url=f"{base}/lti/launch",
        )
    )
    response = RedirectResponse(started.redirect_url, status_code=status.HTTP_302_FOUND)
    # The launch comes back as a cross-site form POST, which only a SameSite=None cookie joins.
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=int(launch.LOGIN_LIFETIME.total_seconds()),
        path="/lti",
        httponly=True,
        secure=True,
        samesite="none",
    )
    return response


@pages.get("/lti/login")
async def login_by_link(
    request: Request,
    iss: Annotated[str, Query(min_length=1, max_length=1000)],
    login_hint: Annotated[str, Query(min_length=1, max_length=1000)],
    target_link_uri: Annotated[str, Query(min_length=1, max_length=1000)],
    lti_message_hint: Annotated[str | None, Query(max_length=4000)] = None,
    client_id: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    db: Database = Depends(get_database),
) -> RedirectResponse:
    """OIDC login initiation (third-party initiated login), as a link."""
    form = LoginForm(
        iss=iss,
        login_hint=login_hint,
        target_link_uri=target_link_uri,
        lti_message_hint=lti_message_hint,
        client_id=client_id,
    )
    return await _login(request, db, form)


@pages.post("/lti/login")
async def login_by_form(
    request: Request,
    form: Annotated[LoginForm, Form()],
    db: Database = Depends(get_database),
) -> RedirectResponse:
    """OIDC login initiation, as a form post."""
    return await _login(request, db, form)


@pages.post("/lti/launch", response_model=None)
async def launch_by_platform(
    request: Request,
    form: Annotated[LaunchForm, Form()],
    db: Database = Depends(get_database),
) -> Response:
    """The platform's ID token, posted by the browser the login sent there."""
    try:
        verified = await launch.verify_launch(
            db,
            key_sets(request),
            state=form.state,
            state_cookie=request.cookies.get(STATE_COOKIE),
            id_token=form.id_token,
        )
    except LecternError:
        LAUNCHES.labels("refused").inc()
        raise
    try:
        if verified.launch.message_type == DEEP_LINKING_REQUEST:
            picking = await db.run(lambda s: launch.start_pick(s, verified))
            answer: Response = await _pick_page(request, db, picking.pick_token)
        else:
            answer = _signed_in(db, await _into_course(db, verified))
    except LecternError as refusal:
        LAUNCHES.labels("refused").inc()
        await launch.log_refusal(db, verified.platform_id, refusal)
        raise
    LAUNCHES.labels("accepted").inc()
    answer.delete_cookie(STATE_COOKIE, path="/lti", secure=True, samesite="none")
    return answer


async def _into_course(db: Database, verified: launch.Verified) -> launch.SignedIn:
    days = db.settings.session_days
    try:
        return await db.run(lambda s: launch.launch_into_course(s, verified, session_days=days))
    except IntegrityError:
        # A launch of the same platform user committed their account first; this one, rolled
        # back whole, now finds it.
        return await db.run(lambda s: launch.launch_into_course(s, verified, session_days=days))


def _signed_in(db: Database, signed_in: launch.SignedIn) -> RedirectResponse:
    """To the course, signed in as sign-in does."""
    response = RedirectResponse(
        f"/learn/courses/{signed_in.course_id}", status_code=status.HTTP_303_SEE_OTHER
    )
    secure = db.settings.cookie_secure
    max_age = db.settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.session_token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE, signed_in.csrf_token, max_age=max_age, samesite="lax", secure=secure
    )
    return response


@pages.get("/lti/courses/{course_id}")
async def course_link(course_id: PathId) -> RedirectResponse:
    """The target link of a course's resource link, opened outside a launch."""
    return RedirectResponse(f"/learn/courses/{course_id}", status_code=status.HTTP_303_SEE_OTHER)


async def _pick_page(request: Request, db: Database, token: str) -> HTMLResponse:
    async with db.session() as session:
        pick = await deep_linking.pick_of(session, token)
        courses = await deep_linking.pickable_courses(session, pick.platform.institution_id)
    page = render(
        request,
        "lti/pick.html",
        actor=None,
        title="Choose a course",
        token=token,
        platform=pick.platform,
        courses=courses,
    )
    assert pick.launch.return_url is not None
    page.headers["Content-Security-Policy"] = _inside_platform(pick.launch.return_url)
    return page


def _inside_platform(return_url: str) -> str:
    """The pages' policy, but framed by the platform (Deep Linking opens in its dialog) and
    posting back to it."""
    origin = _origin(return_url)
    return CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    ).replace("frame-ancestors 'none'", f"frame-ancestors {origin}")


@pages.post("/lti/deep-link", response_class=HTMLResponse)
async def answer_deep_link(
    request: Request,
    form: Annotated[PickForm, Form()],
    db: Database = Depends(get_database),
) -> HTMLResponse:
    """The picked course, answered to the platform: a page whose form posts the signed
    LtiDeepLinkingResponse to the platform's return URL at once."""
    base = public_url(request)
    answer = await db.run(
        lambda s: deep_linking.answer_pick(
            s, token=form.token, course_id=int(form.course_id), public_url=base
        )
    )
    page = render(
        request,
        "lti/return.html",
        actor=None,
        title="Returning to your platform",
        scripts=("lti.js",),
        return_url=answer.return_url,
        jwt=answer.jwt,
    )
    page.headers["Content-Security-Policy"] = _inside_platform(answer.return_url)
    return page


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}"


# --- the admins' API ----------------------------------------------------------------------


@router.get("/admin/lti/tool", response_model=ToolOut)
async def tool_configuration(request: Request, _actor: Actor = Depends(admin_actor)) -> ToolOut:
    """The URLs to enter in a platform when adding Lectern as a tool."""
    base = public_url(request)
    return ToolOut(
        login_url=f"{base}/lti/login",
        launch_url=f"{base}/lti/launch",
        jwks_url=f"{base}/lti/jwks",
        deep_linking_url=f"{base}/lti/launch",
    )


@router.get("/admin/lti/platforms", response_model=list[PlatformOut])
async def list_platforms(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> list[LtiPlatform]:
    return await platforms.list_platforms(session, actor)


@router.post(
    "/admin/lti/platforms", status_code=status.HTTP_201_CREATED, response_model=PlatformOut
)
async def register_platform(
    body: PlatformIn, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> LtiPlatform:
    """Register a platform (issuer and client id unique across Lectern)."""
    return await db.run(lambda s: platforms.register_platform(s, actor, body))


@router.patch("/admin/lti/platforms/{platform_id}", response_model=PlatformOut)
async def edit_platform(
    platform_id: PathId,
    body: PlatformChange,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> LtiPlatform:
    return await db.run(lambda s: platforms.edit_platform(s, actor, platform_id, body))


@router.delete("/admin/lti/platforms/{platform_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_platform(
    platform_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: platforms.delete_platform(s, actor, platform_id))


@router.post("/admin/lti/platforms/{platform_id}/connection-test", response_model=ConnectionOut)
async def check_platform_connection(
    platform_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> ConnectionOut:
    """Fetch the platform's key set now, as a launch would."""
    platform = await platforms.platform_of(session, actor, platform_id)
    return await platforms.check_connection(platform.jwks_url)


@router.get("/admin/lti/platforms/{platform_id}/launches", response_model=list[LaunchOut])
async def platform_launches(
    platform_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
    limit: Limit = 50,
) -> list[LtiLaunch]:
    """The latest launches from the platform, accepted and refused (with why), newest first."""
    return await platforms.recent_launches(session, actor, platform_id, limit=limit)


@router.get("/admin/lti/platforms/{platform_id}/scores", response_model=list[ScoreOut])
async def platform_scores(
    platform_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
    limit: Limit = 50,
) -> list[ScoreOut]:
    """The latest scores for the platform's gradebook, sent or waiting, newest first."""
    return await platforms.recent_scores(session, actor, platform_id, limit=limit)


@router.post("/lti/tool-keys/rotation", response_model=RotatedOut)
async def rotate_key(
    actor: Actor = Depends(platform_admin_actor), db: Database = Depends(get_database)
) -> RotatedOut:
    """A new signing key for Lectern's LTI messages; the old one stays published a day."""
    return RotatedOut(kid=await db.run(lambda s: rotate_tool_key(s, actor)))
