"""Bearer tokens end: they expire, logout revokes them, their owner lists and revokes them, and
a password change ends every other token and session."""

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from lectern.models import ApiToken
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.factories import PASSWORD, Person, World
from tests.rows import row_counts, scalar

NEW_PASSWORD = "violet staircase umbrella"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _token(client: httpx.AsyncClient, person: Person, **fields: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/auth/tokens", json={"email": person.email, "password": PASSWORD, **fields}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _cookie_login(client: httpx.AsyncClient, person: Person, password: str = PASSWORD) -> str:
    r = await client.post("/api/v1/auth/login", json={"email": person.email, "password": password})
    assert r.status_code == 200, r.text
    csrf: str = r.json()["csrf_token"]
    return csrf


async def _me_status_with(client: httpx.AsyncClient, cookies: dict[str, str]) -> int:
    """GET /me with other cookies than the client's own, which it keeps."""
    own = httpx.Cookies(client.cookies)
    client.cookies = httpx.Cookies(cookies)
    try:
        return (await client.get("/api/v1/me")).status_code
    finally:
        client.cookies = own


async def _expire_tokens_of(db: Database, person: Person) -> None:
    async with db.session() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == person.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()


async def test_a_token_expires_after_the_configured_days_and_is_then_refused(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    issued = await _token(client, admin)

    expires_at = datetime.fromisoformat(issued["expires_at"])
    expected = utcnow() + timedelta(days=db.settings.token_days)
    assert abs(expires_at - expected) < timedelta(minutes=1)
    assert (await client.get("/api/v1/me", headers=_bearer(issued["token"]))).status_code == 200

    await _expire_tokens_of(db, admin)

    for token in (issued["token"], admin.token):
        r = await client.get("/api/v1/me", headers=_bearer(token))
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


async def test_logout_with_a_bearer_token_revokes_that_token_only(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    issued = await _token(client, admin)

    r = await client.post("/api/v1/auth/logout", headers=_bearer(issued["token"]))

    assert r.status_code == 204
    assert (await client.get("/api/v1/me", headers=_bearer(issued["token"]))).status_code == 401
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200


async def test_my_tokens_and_sessions_are_listed_without_secrets_marking_the_current_one(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    other = await world.admin()
    named = await _token(client, admin, name="laptop")
    await _cookie_login(client, admin)
    await _cookie_login(client, other)  # replaces the cookie: admin's session is not this one
    client.cookies.clear()

    tokens = (await client.get("/api/v1/me/tokens", headers=_bearer(named["token"]))).json()

    assert [(t["name"], t["current"]) for t in tokens] == [(None, False), ("laptop", True)]
    assert all(set(t) == {"id", "name", "created_at", "expires_at", "current"} for t in tokens)
    sessions = (await client.get("/api/v1/me/sessions", headers=admin.headers)).json()
    assert len(sessions) == 1
    assert set(sessions[0]) == {"id", "created_at", "expires_at", "current"}
    assert sessions[0]["current"] is False
    await _cookie_login(client, admin)
    by_cookie = (await client.get("/api/v1/me/sessions")).json()
    assert [s["current"] for s in by_cookie] == [False, True]


async def test_revoking_a_token_or_session_ends_it(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    spare = await _token(client, admin, name="spare")
    await _cookie_login(client, admin)
    cookies = dict(client.cookies)
    client.cookies.clear()
    token_id = (await client.get("/api/v1/me/tokens", headers=admin.headers)).json()[1]["id"]
    [session] = (await client.get("/api/v1/me/sessions", headers=admin.headers)).json()

    r = await client.delete(f"/api/v1/me/tokens/{token_id}", headers=admin.headers)
    assert r.status_code == 204
    r = await client.delete(f"/api/v1/me/sessions/{session['id']}", headers=admin.headers)
    assert r.status_code == 204

    assert (await client.get("/api/v1/me", headers=_bearer(spare["token"]))).status_code == 401
    assert await _me_status_with(client, cookies) == 401
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200


async def test_revoking_another_persons_token_or_session_answers_like_an_unknown_id(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    stranger = await world.admin("Southside College")
    await _cookie_login(client, stranger)
    client.cookies.clear()
    [theirs] = (await client.get("/api/v1/me/tokens", headers=stranger.headers)).json()
    [their_session] = (await client.get("/api/v1/me/sessions", headers=stranger.headers)).json()
    before = await row_counts(db)

    for kind, known in (("tokens", theirs["id"]), ("sessions", their_session["id"])):
        foreign = await client.delete(f"/api/v1/me/{kind}/{known}", headers=admin.headers)
        unknown = await client.delete(f"/api/v1/me/{kind}/999999", headers=admin.headers)
        assert foreign.status_code == 404
        assert foreign.json() == unknown.json()
    assert await row_counts(db) == before
    assert (await client.get("/api/v1/me", headers=stranger.headers)).status_code == 200


async def test_a_password_change_ends_every_other_session_and_token_but_the_current_one(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    other = await world.admin()
    second = await _token(client, admin)
    await _cookie_login(client, admin)
    old_cookies = dict(client.cookies)
    client.cookies.clear()
    csrf = await _cookie_login(client, admin)

    r = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )

    assert r.status_code == 204, r.text
    assert (await client.get("/api/v1/me")).json()["id"] == admin.id
    for token in (admin.token, second["token"]):
        assert (await client.get("/api/v1/me", headers=_bearer(token))).status_code == 401
    assert await _me_status_with(client, old_cookies) == 401
    assert (
        await scalar(db, "SELECT count(*) FROM auth_sessions WHERE user_id = :u", u=admin.id) == 1
    )
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 200
    client.cookies.clear()
    refused = await client.post(
        "/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD}
    )
    assert refused.status_code == 401
    accepted = await client.post(
        "/api/v1/auth/tokens", json={"email": admin.email, "password": NEW_PASSWORD}
    )
    assert accepted.status_code == 201


async def test_a_password_change_needs_the_current_password_and_a_strong_new_one(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    before = await row_counts(db)
    cases = (
        ({"current_password": "not my password", "new_password": NEW_PASSWORD}, 403),
        ({"current_password": PASSWORD, "new_password": "password"}, 422),
        ({"current_password": PASSWORD, "new_password": "qwertyuiop"}, 422),
        ({"current_password": PASSWORD, "new_password": admin.email}, 422),
    )
    for body, status in cases:
        r = await client.post("/api/v1/me/password", json=body, headers=admin.headers)
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before
    assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200
    ok = await client.post("/api/v1/auth/tokens", json={"email": admin.email, "password": PASSWORD})
    assert ok.status_code == 201
