"""Session cookies, the CSRF defence for cookie-authenticated changes, and login throttling."""

from collections.abc import AsyncIterator

import httpx
import pytest

from lectern.app import create_app
from lectern.platform.db import Database
from tests.conftest import make_settings
from tests.factories import PASSWORD, Person, World
from tests.rows import row_counts


async def _login(client: httpx.AsyncClient, person: Person) -> httpx.Response:
    r = await client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r


async def test_login_sets_an_httponly_samesite_lax_session_cookie(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    r = await _login(client, admin)
    cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
    session = cookies["lectern_session"]
    assert "httponly" in session
    assert "samesite=lax" in session
    assert "path=/" in session
    # The CSRF cookie is read by the page's script, so it is not HttpOnly.
    assert "httponly" not in cookies["lectern_csrf"]
    assert r.json()["csrf_token"] == client.cookies["lectern_csrf"]


async def test_cookie_post_without_csrf_token_is_refused_and_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    csrf = (await _login(client, student)).json()["csrf_token"]
    path = f"/api/v1/courses/{course['id']}/access-requests"
    before = await row_counts(db)

    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        r = await client.post(path, headers=headers)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("csrf")
    logout = await client.post("/api/v1/auth/logout")
    assert logout.status_code == 403
    assert await row_counts(db) == before
    assert (await client.get("/api/v1/me")).status_code == 200

    r = await client.post(path, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text


async def test_bearer_requests_need_no_csrf_token(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    r = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    assert r.status_code == 201


async def test_bearer_wins_over_a_cookie(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await _login(client, admin)
    me = await client.get("/api/v1/me", headers=student.headers)
    assert me.json()["id"] == student.id


@pytest.fixture
async def throttled_client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url).model_copy(
        update={"login_rate_limit": "3/minute", "login_rate_limit_per_ip": "5/minute"}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_login_attempts_are_rate_limited(
    world: World, throttled_client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    wrong = {"email": admin.email, "password": "not the password"}
    for _ in range(3):
        assert (await throttled_client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    before = await row_counts(db)
    limited = await throttled_client.post(
        "/api/v1/auth/login", json={"email": admin.email.upper(), "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    tokens = await throttled_client.post(
        "/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD}
    )
    assert tokens.status_code == 429
    assert await row_counts(db) == before
    # Other accounts from the same address are limited per address, after more attempts.
    other = {"email": "someone@example.test", "password": "whatever it is"}
    assert (await throttled_client.post("/api/v1/auth/login", json=other)).status_code == 429
