import httpx

from lectern.platform.db import Database
from tests.factories import World
from tests.payments.shop import Shop, counts, event_types, payment_row, start_checkout


async def test_checkout_opens_a_pending_payment_and_a_test_checkout_page(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "pending"
    assert body["checkout_url"].startswith("/pay/test/cs_test_")
    payment = await payment_row(db, body["payment_id"])
    assert (payment.user_id, payment.course_id) == (shop.student.id, shop.course["id"])
    assert (payment.amount_cents, payment.currency, payment.provider) == (4900, "usd", "test")
    assert payment.checkout_url == body["checkout_url"]
    assert await event_types(db, prefix="payment.") == ["payment.created"]


async def test_repeating_checkout_returns_the_same_checkout_and_writes_nothing(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    url = f"/api/v1/courses/{shop.course['id']}/checkout"
    first = await client.post(url, headers=shop.student.headers)
    before = await counts(db)
    second = await client.post(url, headers=shop.student.headers)
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    assert await counts(db) == before


async def test_a_changed_price_abandons_the_pending_checkout_for_a_new_one(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    first = await start_checkout(client, shop)
    r = await client.patch(
        f"/api/v1/courses/{shop.course['id']}",
        json={"price_cents": 5900},
        headers=shop.admin.headers,
    )
    assert r.status_code == 200, r.text
    second = await start_checkout(client, shop)
    assert second["id"] != first["id"]
    assert (second["amount_cents"], second["status"]) == (5900, "pending")
    assert (await payment_row(db, first["id"])).status == "failed"


async def test_checkout_refuses_what_is_not_for_sale_to_this_student(
    shop: Shop, world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student = shop.admin, shop.student
    open_course = await world.course(admin, access="open")
    approval_course = await world.course(admin, access="approval")
    draft_course = await world.course(admin, access="paid", price_cents=100, status="draft")
    archived = await world.course(admin, access="paid", price_cents=100, status="archived")
    other_admin = await world.admin("Contoso College")
    foreign = await world.course(other_admin, access="paid", price_cents=100)
    enrolled = await world.course(admin, access="paid", price_cents=100)
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": enrolled["id"]},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    before = await counts(db)
    cases = [
        (open_course["id"], student.headers, 409),
        (approval_course["id"], student.headers, 409),
        (enrolled["id"], student.headers, 409),
        (archived["id"], student.headers, 409),
        (draft_course["id"], student.headers, 404),
        (foreign["id"], student.headers, 404),
        (999_999, student.headers, 404),
        (shop.course["id"], admin.headers, 403),
        (shop.course["id"], {}, 401),
    ]
    for course_id, headers, expected in cases:
        r = await client.post(f"/api/v1/courses/{course_id}/checkout", headers=headers)
        assert r.status_code == expected, (course_id, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.post("/api/v1/courses/not-a-number/checkout", headers=student.headers)
    assert r.status_code == 422
    assert await counts(db) == before
