"""Every way a sign-in can come back wrong is refused with a 4xx problem, and creates nothing:
no account, no profile, no link, no session, no enrollment."""

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey

from lectern.platform.db import Database
from tests.factories import World
from tests.oidc.conftest import (
    DOMAIN,
    Browser,
    add_provider,
    counts,
    metric_sample,
    opened_browser,
)
from tests.oidc.identity_provider import IdentityProvider

ALICE = {"sub": "alice-1", "email": f"alice@{DOMAIN}", "email_verified": True, "name": "Alice"}


def _with_state(callback: str, state: str) -> str:
    parts = urlsplit(callback)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, 'state': state})}"


async def _refused(
    world: World,
    db: Database,
    idp: IdentityProvider,
    visitor: Browser,
    come_back: Callable[[Browser, int], Awaitable[httpx.Response]],
) -> dict[str, Any]:
    admin = await world.admin()
    await world.course(admin, access="default")
    provider = await add_provider(world, admin, idp)
    if not idp.person:
        idp.person = dict(ALICE)
    before = await counts(db)
    answer = await come_back(visitor, provider["id"])
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "lectern_session" not in answer.cookies
    assert (await visitor.me()).status_code == 401
    assert await counts(db) == before
    problem: dict[str, Any] = answer.json()
    return problem


async def test_a_changed_state_is_refused(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    async def come_back(visitor: Browser, provider_id: int) -> httpx.Response:
        callback = await visitor.approve(await visitor.go_to_provider(provider_id))
        return await visitor.come_back(_with_state(callback, "forged"))

    problem = await _refused(world, db, idp, visitor, come_back)
    assert problem["type"].endswith("/oidc-state-mismatch")
    assert problem["status"] == 400


async def test_a_sign_in_started_in_another_browser_is_refused(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser, app: Any
) -> None:
    async def come_back(visitor: Browser, provider_id: int) -> httpx.Response:
        # Another visitor starts it (a link sent to the victim); this one comes back with it.
        async with opened_browser(app) as attacker:
            callback = await attacker.approve(await attacker.go_to_provider(provider_id))
        return await visitor.come_back(callback)

    problem = await _refused(world, db, idp, visitor, come_back)
    assert problem["type"].endswith("/oidc-state-mismatch")


async def test_a_callback_used_twice_is_refused_the_second_time(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser, app: Any
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = dict(ALICE)
    callback = await visitor.approve(await visitor.go_to_provider(provider["id"]))
    assert (await visitor.come_back(callback)).status_code == 303
    before = await counts(db)
    again = await visitor.come_back(callback)
    assert again.status_code == 400
    assert again.json()["type"].endswith("/oidc-state-mismatch")
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("tamper", "slug"),
    [
        ({"nonce": "not-the-nonce-sent"}, "oidc-id-token-invalid"),
        ({"aud": "another-client"}, "oidc-id-token-invalid"),
        ({"iss": "http://127.0.0.1:1"}, "oidc-id-token-invalid"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "oidc-id-token-invalid"),
        ({"email": "alice@elsewhere.edu"}, "oidc-domain-not-allowed"),
        ({"email": f"alice@sub.{DOMAIN}"}, "oidc-domain-not-allowed"),
        ({"email_verified": False}, "oidc-email-unverified"),
        ({"email": None}, "oidc-no-email"),
    ],
    ids=[
        "nonce-mismatch",
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "other-domain",
        "subdomain",
        "unverified-email",
        "no-email",
    ],
)
async def test_an_unacceptable_id_token_is_refused(
    world: World,
    db: Database,
    idp: IdentityProvider,
    visitor: Browser,
    tamper: dict[str, Any],
    slug: str,
) -> None:
    idp.tamper = {key: value for key, value in tamper.items() if value is not None}
    if tamper.get("email", "") is None:
        idp.person = {key: value for key, value in ALICE.items() if key != "email"}

    problem = await _refused(world, db, idp, visitor, Browser.sign_in)

    assert problem["type"].endswith("/" + slug)


async def test_a_token_signed_with_another_key_is_refused(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    idp.sign_with = RSAKey.generate_key(2048)

    problem = await _refused(world, db, idp, visitor, Browser.sign_in)

    assert problem["type"].endswith("/oidc-id-token-invalid")
    assert problem["status"] == 401


async def test_an_error_from_the_provider_is_refused(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    async def come_back(visitor: Browser, provider_id: int) -> httpx.Response:
        callback = await visitor.approve(await visitor.go_to_provider(provider_id))
        state = parse_qs(urlsplit(callback).query)["state"][0]
        query = urlencode({"state": state, "error": "access_denied"})
        return await visitor.come_back(f"/oidc/callback?{query}")

    problem = await _refused(world, db, idp, visitor, come_back)
    assert problem["type"].endswith("/oidc-provider-error")


async def test_refusals_are_listed_for_admins_and_counted(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser, app: Any
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    metrics_before = (await world.client.get("/metrics")).text
    idp.person = dict(ALICE, email="alice@elsewhere.edu")
    assert (await visitor.sign_in(provider["id"])).status_code == 403

    sign_ins = (
        await world.client.get(
            f"/api/v1/admin/oidc/providers/{provider['id']}/sign-ins", headers=admin.headers
        )
    ).json()
    assert [(s["outcome"], s["reason"], s["email"]) for s in sign_ins] == [
        ("refused", "oidc-domain-not-allowed", "alice@elsewhere.edu")
    ]
    metrics = (await world.client.get("/metrics")).text
    assert metric_sample(
        metrics, 'lectern_oidc_sign_in_failures_total{reason="oidc-domain-not-allowed"}'
    ) == (
        metric_sample(
            metrics_before, 'lectern_oidc_sign_in_failures_total{reason="oidc-domain-not-allowed"}'
        )
        + 1
    )


async def test_a_browser_is_shown_the_refusal_as_a_page(
    world: World, idp: IdentityProvider, visitor: Browser
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = dict(ALICE, email="alice@elsewhere.edu")
    callback = await visitor.approve(await visitor.go_to_provider(provider["id"]))

    page = await visitor.app.get(callback, headers={"Accept": "text/html"})

    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert f"Only addresses at {DOMAIN} may sign in" in page.text
