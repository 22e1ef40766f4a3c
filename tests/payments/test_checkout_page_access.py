"""The test provider's checkout page and its actions serve only the learner who started the
checkout, signed in, and a cookie session's Pay and Cancel need its CSRF token."""

import httpx
import pytest

from lectern.platform.db import Database
from tests.factories import PASSWORD, Person, World
from tests.payments.shop import Shop, counts, enrollment_of, payment_row

FORGED = {
    "Origin": "https://elsewhere.example",
    "Content-Type": "application/x-www-form-urlencoded",
}


async def _checkout(client: httpx.AsyncClient, shop: Shop) -> dict[str, str]:
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    assert r.status_code == 201, r.text
    checkout: dict[str, str] = r.json()
    return checkout


async def _sign_in(client: httpx.AsyncClient, person: Person) -> str:
    """Log in with the session cookie, as a browser does; returns the session's CSRF token."""
    r = await client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return client.cookies["lectern_csrf"]


async def _assert_still_pending(db: Database, shop: Shop, payment_id: int) -> None:
    assert (await payment_row(db, payment_id)).status == "pending"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None


async def test_an_anonymous_visitor_is_sent_to_sign_in_and_cannot_pay(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    checkout = await _checkout(client, shop)
    url = checkout["checkout_url"]
    before = await counts(db)

    page = await client.get(url)
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next={url}"
    for action in ("pay", "cancel"):
        r = await client.post(f"{url}/{action}", headers=FORGED)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"

    assert await counts(db) == before
    await _assert_still_pending(db, shop, int(checkout["payment_id"]))


@pytest.mark.parametrize("who", ["another learner", "their admin"])
async def test_someone_elses_checkout_is_not_found(
    who: str, shop: Shop, world: World, client: httpx.AsyncClient, db: Database
) -> None:
    checkout = await _checkout(client, shop)
    url = checkout["checkout_url"]
    other = await world.student(shop.admin.institution_slug) if who == "another learner" else None
    headers = (other or shop.admin).headers
    unknown = await client.get("/pay/test/cs_test_nothing", headers=headers)
    before = await counts(db)

    page = await client.get(url, headers=headers)
    assert page.status_code == 404
    # Told exactly what an unknown checkout tells: nothing about whether this one exists.
    assert page.json() == unknown.json()
    for action in ("pay", "cancel"):
        r = await client.post(f"{url}/{action}", headers=headers)
        assert r.status_code == 404
        assert r.json()["detail"] == unknown.json()["detail"]

    assert await counts(db) == before
    await _assert_still_pending(db, shop, int(checkout["payment_id"]))


@pytest.mark.parametrize("token", [None, "not-the-sessions-token"], ids=["no token", "wrong token"])
async def test_a_forged_post_with_the_buyers_cookie_is_refused_and_pays_nothing(
    token: str | None, shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    checkout = await _checkout(client, shop)
    url = checkout["checkout_url"]
    await _sign_in(client, shop.student)
    assert (await client.get(url)).status_code == 200
    headers = FORGED if token is None else {**FORGED, "X-CSRF-Token": token}
    before = await counts(db)

    for action in ("pay", "cancel"):
        r = await client.post(f"{url}/{action}", headers=headers)
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"

    assert await counts(db) == before
    await _assert_still_pending(db, shop, int(checkout["payment_id"]))


async def test_the_signed_in_buyer_pays_with_the_sessions_csrf_token(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    checkout = await _checkout(client, shop)
    url = checkout["checkout_url"]
    csrf = await _sign_in(client, shop.student)

    r = await client.post(f"{url}/pay", headers={"X-CSRF-Token": csrf})

    assert r.status_code == 303
    assert r.headers["location"] == (
        f"/learn/courses/{shop.course['id']}?payment={checkout['payment_id']}"
    )
    assert (await payment_row(db, int(checkout["payment_id"]))).status == "completed"
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert (enrollment.status, enrollment.source) == ("active", "payment")
