"""A paid course with its admin and a student, and what the payment flow wrote."""

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from lectern.models import Enrollment, Event, Notification, Payment, WebhookEvent
from lectern.platform.db import Database
from tests.factories import Person

WEBHOOK = "/api/v1/payments/webhooks/stripe"
PRICE = 4900


@dataclass
class Shop:
    admin: Person
    student: Person
    course: dict[str, Any]


async def start_checkout(client: httpx.AsyncClient, shop: Shop) -> dict[str, Any]:
    """Checkout through the API; returns the payment as the admin API shows it."""
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    assert r.status_code in (200, 201), r.text
    r = await client.get(
        f"/api/v1/admin/payments/{r.json()['payment_id']}", headers=shop.admin.headers
    )
    assert r.status_code == 200, r.text
    payment: dict[str, Any] = r.json()
    return payment


async def counts(db: Database) -> dict[str, int]:
    """How many rows the payment flow can write, to prove that something wrote nothing."""
    async with db.session() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Payment, WebhookEvent, Event, Notification, Enrollment)
        }


async def payment_row(db: Database, payment_id: int) -> Payment:
    async with db.session() as session:
        return await session.get_one(Payment, payment_id)


async def enrollment_of(db: Database, user_id: int, course_id: int) -> Enrollment | None:
    async with db.session() as session:
        enrollment: Enrollment | None = await session.scalar(
            select(Enrollment).where(
                Enrollment.user_id == user_id, Enrollment.course_id == course_id
            )
        )
        return enrollment


async def event_types(db: Database, *, prefix: str = "") -> list[str]:
    async with db.session() as session:
        types = await session.scalars(
            select(Event.type).where(Event.type.startswith(prefix)).order_by(Event.id)
        )
        return list(types)


async def notifications_of(db: Database, user_id: int) -> list[Notification]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        )
        return list(rows)
