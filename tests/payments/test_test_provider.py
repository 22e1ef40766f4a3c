import re

import httpx

from lectern.platform.db import Database
from tests.payments.shop import Shop, counts, enrollment_of, event_types, payment_row


def _form_actions(page: str) -> dict[str, str]:
    return {
        button: action
        for action, button in re.findall(
            r'<form method="post" action="([^"]+)">\s*<button[^>]*id="(\w+)"', page
        )
    }


async def test_paying_on_the_test_checkout_page_enrolls_the_learner(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    checkout = r.json()
    page = await client.get(checkout["checkout_url"], headers=shop.student.headers)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert shop.course["title"] in page.text
    assert "49.00 USD" in page.text
    assert '<script src="/static/test_checkout.js" defer></script>' in page.text
    actions = _form_actions(page.text)
    assert set(actions) == {"pay", "cancel"}

    r = await client.post(actions["pay"], headers=shop.student.headers)
    assert r.status_code == 303
    assert r.headers["location"] == (
        f"/learn/courses/{shop.course['id']}?payment={checkout['payment_id']}"
    )
    assert (await payment_row(db, checkout["payment_id"])).status == "completed"
    r = await client.get("/api/v1/me/enrollments", headers=shop.student.headers)
    assert [(e["course_id"], e["status"], e["source"]) for e in r.json()] == [
        (shop.course["id"], "active", "payment")
    ]

    before = await counts(db)
    r = await client.post(actions["pay"], headers=shop.student.headers)
    assert r.status_code == 303
    assert await counts(db) == before
    page = await client.get(checkout["checkout_url"], headers=shop.student.headers)
    assert "This payment is completed." in page.text


async def test_cancelling_on_the_test_checkout_page_leaves_the_payment_pending(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    checkout = r.json()
    page = await client.get(checkout["checkout_url"], headers=shop.student.headers)
    r = await client.post(_form_actions(page.text)["cancel"], headers=shop.student.headers)
    assert r.status_code == 303
    assert r.headers["location"] == f"/learn/courses/{shop.course['id']}?payment=cancelled"
    assert (await payment_row(db, checkout["payment_id"])).status == "pending"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None
    assert await event_types(db, prefix="payment.") == ["payment.created"]


async def test_an_unknown_checkout_page_is_not_found(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    before = await counts(db)
    signed_in = shop.student.headers
    assert (await client.get("/pay/test/cs_test_nothing", headers=signed_in)).status_code == 404
    r = await client.post("/pay/test/cs_test_nothing/pay", headers=signed_in)
    assert r.status_code == 404
    assert await counts(db) == before
