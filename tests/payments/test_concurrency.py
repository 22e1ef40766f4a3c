"""Truly concurrent deliveries through a real server on PostgreSQL."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lectern.models import Enrollment, Event, Payment
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.conftest import LiveServer
from tests.payments.shop import WEBHOOK, Shop, notifications_of, payment_row, start_checkout
from tests.payments.stripe_events import charge_refunded, session_completed, signed

pytestmark = pytest.mark.postgres_only


async def _count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_the_same_event_ten_times_at_once_is_applied_once(
    backend: str,
    shop: Shop,
    client: httpx.AsyncClient,
    db: Database,
    live_server: LiveServer,
    settings: Settings,
) -> None:
    payment = await start_checkout(client, shop)
    delivery = signed(session_completed(payment), settings.test_payment_webhook_secret)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        answers = await asyncio.gather(*(http.post(WEBHOOK, **delivery) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == ["completed"] + ["duplicate"] * 9
    assert (await payment_row(db, payment["id"])).status == "completed"
    assert await _count(db, Event, Event.type == "payment.completed") == 1
    assert await _count(db, Event, Event.type == "enrollment.created") == 1
    assert await _count(db, Enrollment, Enrollment.user_id == shop.student.id) == 1
    assert len(await notifications_of(db, shop.student.id)) == 1


async def test_completion_and_refund_racing_end_refunded_and_not_enrolled(
    backend: str,
    shop: Shop,
    client: httpx.AsyncClient,
    db: Database,
    live_server: LiveServer,
    settings: Settings,
) -> None:
    secret = settings.test_payment_webhook_secret
    for round in range(5):
        payment = await start_checkout(client, shop)
        deliveries = [
            signed(session_completed(payment), secret),
            signed(charge_refunded(payment, with_metadata=round % 2 == 0), secret),
        ] * 3
        async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
            answers = await asyncio.gather(*(http.post(WEBHOOK, **d) for d in deliveries))
        assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
        assert (await payment_row(db, payment["id"])).status == "refunded"
        async with db.session() as session:
            status = await session.scalar(
                select(Enrollment.status).where(
                    Enrollment.user_id == shop.student.id,
                    Enrollment.course_id == shop.course["id"],
                )
            )
        assert status in (None, "cancelled")


async def test_ten_checkouts_at_once_open_one_payment(
    backend: str, shop: Shop, db: Database, live_server: LiveServer
) -> None:
    url = f"/api/v1/courses/{shop.course['id']}/checkout"
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        answers = await asyncio.gather(
            *(http.post(url, headers=shop.student.headers) for _ in range(10))
        )
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()["checkout_url"] for a in answers}) == 1
    assert await _count(db, Payment) == 1
