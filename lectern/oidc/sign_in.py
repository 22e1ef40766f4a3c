"""The browser's side of an OpenID Connect sign-in: off to the provider, and back.

`GET /oidc/{provider_id}/start` remembers a state, nonce and PKCE verifier bound to this browser
(a cookie only it holds) and sends it to the provider. `GET /oidc/callback` takes that state back
once, exchanges the code, checks the ID token and signs the person in with a normal session.
A refusal is answered 4xx (a page for a browser, problem details otherwise) and writes nothing
but a line in the provider's recent sign-ins.
"""

import logging
import re
import secrets
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from lectern.accounts.api import set_session_cookies
from lectern.accounts.service import start_session
from lectern.models import OidcProvider
from lectern.oidc import service
from lectern.oidc.client import authorization_url, exchange_code
from lectern.oidc.discovery import ProviderMetadata, provider_metadata
from lectern.oidc.errors import ProviderUnreachable, SignInRefused
from lectern.oidc.id_token import UnknownSigningKey, verified_claims
from lectern.oidc.metrics import FAILURES, SIGN_INS
from lectern.platform.actor import Actor
from lectern.platform.db import Database, get_database
from lectern.platform.errors import LecternError
from lectern.platform.public_url import public_url
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.web.rendering import home_of, redirect, render

router = api_router(include_in_schema=False)
log = logging.getLogger(__name__)
FLOW_COOKIE = "lectern_oidc"
CALLBACK_PATH = "/oidc/callback"
# Only a path on this site: "//host" and "/\host" would leave it.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[^\s]*$")
Param = Annotated[str, Query(max_length=2000)]
NEXT_MAX = 1000  # oidc_flows.next_path


def redirect_uri(request: Request) -> str:
    return public_url(request) + CALLBACK_PATH


@router.get("/oidc/{provider_id}/start", response_model=None)
async def start(
    request: Request,
    provider_id: PathId,
    next: Param = "",
    db: Database = Depends(get_database),
) -> Response:
    async with db.session() as session:
        provider = await service.enabled_provider(session, provider_id)
    try:
        metadata = await provider_metadata(provider.issuer)
    except ProviderUnreachable as failure:
        FAILURES.labels(reason=failure.slug).inc()
        return _refused(request, failure)
    browser_secret = request.cookies.get(FLOW_COOKIE) or secrets.token_urlsafe(32)
    next_path = next if _LOCAL_PATH.match(next) and len(next) <= NEXT_MAX else ""
    flow = await db.run(
        lambda s: service.begin_flow(
            s, provider.id, browser_secret=browser_secret, next_path=next_path
        )
    )
    response = redirect(
        await authorization_url(
            provider,
            metadata,
            redirect_uri=redirect_uri(request),
            state=flow.state,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
        )
    )
    # Lax: the provider's redirect back is a top-level GET, which carries it.
    response.set_cookie(
        FLOW_COOKIE,
        browser_secret,
        max_age=service.FLOW_MINUTES * 60,
        path="/oidc",
        httponly=True,
        samesite="lax",
        secure=db.settings.cookie_secure,
    )
    return response


@router.get(CALLBACK_PATH, response_model=None)
async def callback(
    request: Request,
    state: Param = "",
    code: Param = "",
    error: Param = "",
    error_description: Param = "",
    db: Database = Depends(get_database),
) -> Response:
    browser_secret = request.cookies.get(FLOW_COOKIE)
    try:
        flow = await db.run(
            lambda s: service.take_flow(s, state=state, browser_secret=browser_secret)
        )
    except SignInRefused as refusal:
        FAILURES.labels(reason=refusal.slug).inc()
        return _refused(request, refusal)
    person: service.Person | None = None
    try:
        if error:
            raise SignInRefused(
                f"The identity provider did not sign you in: {error_description or error}.",
                slug="oidc-provider-error",
            )
        if not code:
            raise SignInRefused("The identity provider sent no code.", slug="oidc-no-code")
        async with db.session() as session:
            provider = await service.enabled_provider(session, flow.provider_id)
        person = signed_in = service.Person.of(await _claims(request, provider, flow, code))
        user, created = await db.run(
            lambda s: service.sign_in_person(s, flow.provider_id, signed_in)
        )
    except (SignInRefused, ProviderUnreachable) as failure:
        FAILURES.labels(reason=failure.slug).inc()
        refused, who = failure, person
        await db.run(lambda s: service.record_refusal(s, flow.provider_id, who, refused))
        return _refused(request, refused)
    SIGN_INS.labels(outcome="created" if created else "signed_in").inc()
    days = db.settings.session_days
    token, csrf = await db.run(lambda s: start_session(s, user, days=days))
    response = redirect(flow.next_path or home_of(Actor.of(user)))
    set_session_cookies(response, token, csrf, days=days, secure=db.settings.cookie_secure)
    response.delete_cookie(FLOW_COOKIE, path="/oidc")
    return response


async def _claims(
    request: Request, provider: OidcProvider, flow: service.ReturnedFlow, code: str
) -> dict[str, object]:
    metadata = await provider_metadata(provider.issuer)
    token = await exchange_code(
        provider,
        metadata,
        code=code,
        redirect_uri=redirect_uri(request),
        code_verifier=flow.code_verifier,
    )
    try:
        return _verify(token, provider, metadata, flow)
    except UnknownSigningKey:
        # The provider may have rotated its keys since they were fetched.
        return _verify(token, provider, await provider_metadata(provider.issuer, fresh=True), flow)


def _verify(
    token: dict[str, object],
    provider: OidcProvider,
    metadata: ProviderMetadata,
    flow: service.ReturnedFlow,
) -> dict[str, object]:
    access_token = token.get("access_token")
    return verified_claims(
        str(token["id_token"]),
        jwks=metadata.jwks,
        algorithms=metadata.signing_algorithms,
        issuer=provider.issuer,
        client_id=provider.client_id,
        nonce=flow.nonce,
        access_token=access_token if isinstance(access_token, str) else None,
    )


def _refused(request: Request, failure: LecternError) -> Response:
    """The refusal, as a page for a browser and as problem details for anything else."""
    log.info("OpenID Connect sign-in refused: %s (%s)", failure.slug, failure.detail)
    if "text/html" not in request.headers.get("accept", ""):
        raise failure
    page = render(
        request,
        "oidc_refused.html",
        actor=None,
        title="Sign-in refused",
        problem=failure.problem(),
    )
    page.status_code = failure.status
    return page
