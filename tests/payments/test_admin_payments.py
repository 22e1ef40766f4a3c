import httpx

from lectern.platform.db import Database
from tests.audit.recorded import audited
from tests.factories import World
from tests.payments.conftest import Deliver
from tests.payments.shop import PRICE, Shop, counts, enrollment_of, start_checkout
from tests.payments.stripe_events import session_completed


async def test_admins_see_payments_per_course_and_per_student(
    shop: Shop, world: World, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    admin = shop.admin
    other_student = await world.student(admin.institution_slug, name="Ada Paid")
    second_course = await world.course(admin, access="paid", price_cents=1500)
    paid = await start_checkout(client, shop)
    await deliver(session_completed(paid))
    shop_b = Shop(admin, other_student, second_course)
    pending = await start_checkout(client, shop_b)

    r = await client.get("/api/v1/admin/payments", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()] == [pending["id"], paid["id"]]

    r = await client.get(
        "/api/v1/admin/payments", params={"course_id": shop.course["id"]}, headers=admin.headers
    )
    [row] = r.json()
    assert row["id"] == paid["id"]
    assert (row["status"], row["amount_cents"], row["currency"]) == ("completed", PRICE, "usd")
    assert (row["learner_name"], row["learner_email"]) == (
        shop.student.full_name,
        shop.student.email,
    )
    assert (row["course_title"], row["enrollment_status"]) == (shop.course["title"], "active")

    r = await client.get(
        "/api/v1/admin/payments", params={"user_id": other_student.id}, headers=admin.headers
    )
    assert [(p["id"], p["status"], p["enrollment_status"]) for p in r.json()] == [
        (pending["id"], "pending", None)
    ]
    r = await client.get(
        "/api/v1/admin/payments", params={"status": "completed"}, headers=admin.headers
    )
    assert [p["id"] for p in r.json()] == [paid["id"]]

    r = await client.get(f"/api/v1/admin/payments/{paid['id']}", headers=admin.headers)
    assert [(e["type"], e["outcome"]) for e in r.json()["provider_events"]] == [
        ("checkout.session.completed", "completed")
    ]


async def test_payments_are_scoped_to_the_institution_and_to_admins(
    shop: Shop, world: World, client: httpx.AsyncClient
) -> None:
    payment = await start_checkout(client, shop)
    outsider = await world.admin("Contoso College")
    outsider_student = await world.student(outsider.institution_slug)
    foreign_course = await world.course(outsider, access="paid", price_cents=100)
    for params in (
        {"course_id": foreign_course["id"]},
        {"user_id": outsider_student.id},
        {"course_id": 999_999},
        {"user_id": 999_999},
        {"user_id": shop.admin.id},
    ):
        r = await client.get("/api/v1/admin/payments", params=params, headers=shop.admin.headers)
        assert r.status_code == 404, (params, r.text)
    r = await client.get("/api/v1/admin/payments", headers=outsider.headers)
    assert r.json() == []
    r = await client.get(f"/api/v1/admin/payments/{payment['id']}", headers=outsider.headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/admin/payments", headers=shop.student.headers)
    assert r.status_code == 403
    for params in ({"course_id": "x"}, {"status": "paid-ish"}, {"limit": 0}):
        r = await client.get("/api/v1/admin/payments", params=params, headers=shop.admin.headers)
        assert r.status_code == 422, params


async def test_learners_see_only_their_own_payments(
    shop: Shop, world: World, client: httpx.AsyncClient
) -> None:
    payment = await start_checkout(client, shop)
    classmate = await world.student(shop.admin.institution_slug)
    r = await client.get("/api/v1/me/payments", headers=shop.student.headers)
    assert [(p["id"], p["status"]) for p in r.json()] == [(payment["id"], "pending")]
    r = await client.get(f"/api/v1/me/payments/{payment['id']}", headers=shop.student.headers)
    assert r.json()["checkout_url"] == payment["checkout_url"]
    assert (await client.get("/api/v1/me/payments", headers=classmate.headers)).json() == []
    r = await client.get(f"/api/v1/me/payments/{payment['id']}", headers=classmate.headers)
    assert r.status_code == 404


async def test_an_admin_refund_goes_through_the_provider_and_cancels_the_enrollment(
    shop: Shop, world: World, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    url = f"/api/v1/admin/payments/{payment['id']}/refund"
    r = await client.post(url, headers=shop.admin.headers)
    assert r.status_code == 409, r.text
    await deliver(session_completed(payment))
    outsider = await world.admin("Contoso College")
    before = await counts(db)
    assert (await client.post(url, headers=outsider.headers)).status_code == 404
    assert (await client.post(url, headers=shop.student.headers)).status_code == 403
    assert await counts(db) == before

    r = await client.post(url, headers=shop.admin.headers)
    assert r.status_code == 202, r.text
    assert (r.json()["status"], r.json()["enrollment_status"]) == ("refunded", "cancelled")
    after = await counts(db)
    r = await client.post(url, headers=shop.admin.headers)
    assert r.json()["status"] == "refunded"
    assert await counts(db) == after


async def test_a_paid_enrollment_is_ended_by_a_refund_not_by_an_unenroll(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    await deliver(session_completed(payment))
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    before = await counts(db)
    r = await client.delete(
        f"/api/v1/admin/enrollments/{enrollment.id}", headers=shop.admin.headers
    )
    assert r.status_code == 409
    assert r.json()["payment_id"] == payment["id"]
    assert await counts(db) == before

    r = await client.post(
        f"/api/v1/admin/payments/{payment['id']}/refund", headers=shop.admin.headers
    )
    assert r.json()["enrollment_status"] == "cancelled"
    r = await audited(client, shop.admin.headers)
    assert r.json()["ok"] is True
