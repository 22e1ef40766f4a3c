import json
import time

import httpx
import pytest
from sqlalchemy import update

from lectern.models import Enrollment
from lectern.platform.db import Database
from tests.payments.conftest import Deliver
from tests.payments.shop import (
    WEBHOOK,
    Shop,
    counts,
    enrollment_of,
    event_types,
    notifications_of,
    payment_row,
    start_checkout,
)
from tests.payments.stripe_events import (
    charge_refunded,
    event,
    session_completed,
    signature_header,
)


async def test_completed_checkout_enrolls_the_learner_with_source_payment(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    r = await deliver(session_completed(payment))
    assert r.status_code == 200, r.text
    assert r.json() == {"received": True, "outcome": "completed"}
    row = await payment_row(db, payment["id"])
    assert (row.status, row.payment_ref) == ("completed", f"pi_{payment['id']}")
    assert row.completed_at is not None
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert (enrollment.status, enrollment.source) == ("active", "payment")
    assert await event_types(db, prefix="payment.") == ["payment.created", "payment.completed"]
    assert "enrollment.created" in await event_types(db, prefix="enrollment.")
    [note] = await notifications_of(db, shop.student.id)
    assert note.kind == "payment.completed"
    r = await client.get("/api/v1/me/enrollments", headers=shop.student.headers)
    assert [(e["course_id"], e["source"]) for e in r.json()] == [(shop.course["id"], "payment")]


async def test_the_same_event_delivered_again_changes_nothing(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    completed = session_completed(payment)
    await deliver(completed)
    before = await counts(db)
    for _ in range(3):
        r = await deliver(completed)
        assert r.json() == {"received": True, "outcome": "duplicate"}
    assert await counts(db) == before


async def test_a_second_completion_event_for_a_paid_payment_changes_nothing(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    await deliver(session_completed(payment))
    r = await deliver(session_completed(payment))
    assert r.json()["outcome"] == "unchanged"
    assert await event_types(db, prefix="payment.") == ["payment.created", "payment.completed"]
    assert len(await notifications_of(db, shop.student.id)) == 1


@pytest.mark.parametrize(
    "attack",
    [
        "wrong_secret",
        "tampered_body",
        "old_timestamp",
        "future_signature_for_old_time",
        "no_header",
        "garbled_header",
        "not_json",
        "json_list",
        "no_event_id",
        "no_data_object",
        "amount_not_integer",
        "not_utf8",
    ],
)
async def test_bad_deliveries_answer_400_and_write_nothing(
    attack: str, shop: Shop, client: httpx.AsyncClient, db: Database, settings: object
) -> None:
    secret: str = settings.test_payment_webhook_secret  # type: ignore[attr-defined]
    payment = await start_checkout(client, shop)
    good = session_completed(payment)
    body = json.dumps(good).encode()
    headers = {"Content-Type": "application/json"}
    if attack == "wrong_secret":
        headers["Stripe-Signature"] = signature_header(body, "whsec_forger")
    elif attack == "tampered_body":
        headers["Stripe-Signature"] = signature_header(body, secret)
        body = body.replace(b'"amount_total": 4900', b'"amount_total": 1')
    elif attack == "old_timestamp":
        headers["Stripe-Signature"] = signature_header(body, secret, int(time.time()) - 301)
    elif attack == "future_signature_for_old_time":
        # A valid old signature with a fresh t= in front: the MAC covers t, so it fails.
        old = signature_header(body, secret, int(time.time()) - 3600)
        headers["Stripe-Signature"] = f"t={int(time.time())}," + old.split(",", 1)[1]
    elif attack == "no_header":
        pass
    elif attack == "garbled_header":
        headers["Stripe-Signature"] = "v1=abc,t=yesterday"
    else:
        malformed = {
            "not_json": b"{this is not json",
            "json_list": b"[1, 2, 3]",
            "no_event_id": json.dumps({**good, "id": ""}).encode(),
            "no_data_object": json.dumps({**good, "data": {"object": "cs_1"}}).encode(),
            "amount_not_integer": json.dumps(
                {**good, "data": {"object": {**good["data"]["object"], "amount_total": "4900"}}}
            ).encode(),
            "not_utf8": b'{"id": "\xff\xfe"}',
        }
        body = malformed[attack]
        headers["Stripe-Signature"] = signature_header(body, secret)
    before = await counts(db)
    r = await client.post(WEBHOOK, content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 400
    assert await counts(db) == before
    assert (await payment_row(db, payment["id"])).status == "pending"


async def test_refund_after_completion_cancels_the_enrollment(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    await deliver(session_completed(payment))
    r = await deliver(charge_refunded(payment))
    assert r.json()["outcome"] == "refunded"
    row = await payment_row(db, payment["id"])
    assert (row.status, row.refunded_at is not None) == ("refunded", True)
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert enrollment.status == "cancelled"
    assert "enrollment.cancelled" in await event_types(db, prefix="enrollment.")
    assert [n.kind for n in await notifications_of(db, shop.student.id)] == [
        "payment.completed",
        "enrollment.cancelled",
    ]


@pytest.mark.parametrize("refund_names_the_payment", [True, False])
async def test_refund_before_completion_ends_refunded_and_not_enrolled(
    refund_names_the_payment: bool,
    shop: Shop,
    client: httpx.AsyncClient,
    db: Database,
    deliver: Deliver,
) -> None:
    payment = await start_checkout(client, shop)
    r = await deliver(charge_refunded(payment, with_metadata=refund_names_the_payment))
    assert r.json()["outcome"] == ("refunded" if refund_names_the_payment else "unmatched")
    r = await deliver(session_completed(payment))
    assert r.json()["outcome"] == ("unchanged" if refund_names_the_payment else "refunded")
    assert (await payment_row(db, payment["id"])).status == "refunded"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None
    assert "payment.completed" not in await event_types(db, prefix="payment.")
    r = await client.get(f"/api/v1/admin/payments/{payment['id']}", headers=shop.admin.headers)
    assert next((e["type"], e["outcome"]) for e in r.json()["provider_events"]) == (
        "charge.refunded",
        "refunded",
    )


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [
        (100, "usd", "paid 100 cents, the course costs 4900 cents"),
        (4900, "eur", "paid in EUR, the course costs USD"),
    ],
)
async def test_money_that_does_not_pay_for_the_course_is_flagged_to_admins(
    amount: int,
    currency: str,
    reason: str,
    shop: Shop,
    client: httpx.AsyncClient,
    db: Database,
    deliver: Deliver,
) -> None:
    payment = await start_checkout(client, shop)
    r = await deliver(session_completed(payment, amount=amount, currency=currency))
    assert r.json()["outcome"] == "flagged"
    row = await payment_row(db, payment["id"])
    assert (row.status, row.flag_reason) == ("flagged", reason)
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None
    assert await event_types(db, prefix="payment.") == ["payment.created", "payment.flagged"]
    [note] = await notifications_of(db, shop.admin.id)
    assert (note.kind, note.body) == ("payment.flagged", reason)
    assert await notifications_of(db, shop.student.id) == []
    r = await deliver(charge_refunded(payment))
    assert (await payment_row(db, payment["id"])).status == "refunded"


async def test_a_partial_refund_keeps_the_enrollment(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    await deliver(session_completed(payment))
    r = await deliver(charge_refunded(payment, fully=False))
    assert r.json()["outcome"] == "partially_refunded"
    assert (await payment_row(db, payment["id"])).status == "completed"
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert enrollment.status == "active"


async def test_an_expired_checkout_fails_and_the_next_checkout_is_a_new_payment(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    r = await deliver(session_completed(payment, type="checkout.session.expired"))
    assert r.json()["outcome"] == "failed"
    assert (await payment_row(db, payment["id"])).status == "failed"
    again = await start_checkout(client, shop)
    assert again["id"] != payment["id"]


async def test_an_unpaid_completion_waits_for_the_async_payment(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    r = await deliver(session_completed(payment, payment_status="unpaid"))
    assert r.json()["outcome"] == "awaiting_payment"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None
    r = await deliver(session_completed(payment, type="checkout.session.async_payment_succeeded"))
    assert r.json()["outcome"] == "completed"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is not None


async def test_events_lectern_does_not_handle_or_know_are_acknowledged(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    before = await counts(db)
    r = await deliver(event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert r.json() == {"received": True, "outcome": "ignored"}
    assert await counts(db) == before
    stranger = {**payment, "id": 987_654, "checkout_id": "cs_elsewhere"}
    r = await deliver(session_completed(stranger))
    assert r.json()["outcome"] == "unmatched"
    assert (await payment_row(db, payment["id"])).status == "pending"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None


async def test_a_completion_for_another_checkout_of_the_payment_is_flagged(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    r = await deliver(session_completed({**payment, "checkout_id": "cs_not_ours"}))
    assert r.json()["outcome"] == "flagged"
    assert await enrollment_of(db, shop.student.id, shop.course["id"]) is None


async def test_a_late_refund_of_an_old_payment_keeps_the_enrollment_a_new_one_bought(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    first = await start_checkout(client, shop)
    await deliver(session_completed(first))
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    # Admins cannot unenroll a paid learner (a refund does that); an import or a hand edit can.
    async with db.engine.begin() as connection:
        await connection.execute(
            update(Enrollment).where(Enrollment.id == enrollment.id).values(status="cancelled")
        )
    second = await start_checkout(client, shop)
    await deliver(session_completed(second))
    r = await deliver(charge_refunded(first))
    assert r.json()["outcome"] == "refunded"
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert enrollment.status == "active"
    r = await deliver(charge_refunded(second))
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert enrollment.status == "cancelled"


async def test_a_refund_leaves_an_enrollment_an_admin_made(
    shop: Shop, client: httpx.AsyncClient, db: Database, deliver: Deliver
) -> None:
    payment = await start_checkout(client, shop)
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": shop.student.id, "course_id": shop.course["id"]},
        headers=shop.admin.headers,
    )
    assert r.status_code == 201, r.text
    await deliver(session_completed(payment))
    await deliver(charge_refunded(payment))
    assert (await payment_row(db, payment["id"])).status == "refunded"
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert (enrollment.status, enrollment.source) == ("active", "admin")
