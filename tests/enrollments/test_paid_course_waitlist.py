"""A paid course keeps no waitlist: its seats are bought. Asking for one is refused with a clear
422, turning a course with a line into a paid one empties the line (each learner told by a
waitlist.left event), a full paid course refuses checkout, and the database refuses the pair."""

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from lectern.platform.db import Database
from tests.factories import World
from tests.rows import event_types, last_event_id, row_counts, rows


async def test_a_paid_course_with_a_waitlist_is_refused_on_create_and_update(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    before = await row_counts(db)

    created = await client.post(
        "/api/v1/courses",
        json={
            "title": "Sold",
            "status": "published",
            "access": "paid",
            "price_cents": 900,
            "currency": "usd",
            "seat_limit": 5,
            "waitlist": True,
        },
        headers=admin.headers,
    )

    assert created.status_code == 422, created.text
    assert created.json()["type"].endswith("/paid-course-waitlist")
    assert "keeps no waitlist" in created.json()["detail"]
    assert await row_counts(db) == before
    paid = await world.course(admin, access="paid", price_cents=900, currency="usd", seat_limit=5)
    updated = await client.patch(
        f"/api/v1/courses/{paid['id']}", json={"waitlist": True}, headers=admin.headers
    )
    assert updated.status_code == 422, updated.text
    assert updated.json()["type"].endswith("/paid-course-waitlist")
    again = await client.get(f"/api/v1/courses/{paid['id']}", headers=admin.headers)
    assert again.json()["waitlist"] is False


async def test_selling_a_course_with_a_line_needs_the_waitlist_off_and_empties_the_line(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, bob, cy = [await world.student(admin.institution_slug) for _ in range(3)]
    course = await world.course(admin, access="open", seat_limit=1, waitlist=True)
    for learner in (ada, bob, cy):
        r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
        assert r.status_code in (201, 202), r.text
    to_paid = {"access": "paid", "price_cents": 1200, "currency": "usd"}

    refused = await client.patch(
        f"/api/v1/courses/{course['id']}", json=to_paid, headers=admin.headers
    )
    start = await last_event_id(db)
    sold = await client.patch(
        f"/api/v1/courses/{course['id']}",
        json={**to_paid, "waitlist": False},
        headers=admin.headers,
    )

    assert refused.status_code == 422, refused.text
    assert sold.status_code == 200, sold.text
    assert (sold.json()["access"], sold.json()["waitlist"]) == ("paid", False)
    assert await rows(db, "SELECT id FROM waitlist_entries") == []
    left = await rows(
        db,
        "SELECT user_id FROM events WHERE id > :s AND type = 'waitlist.left' ORDER BY id",
        s=start,
    )
    assert [row["user_id"] for row in left] == [bob.id, cy.id]
    assert "enrollment.created" not in await event_types(db, start)


async def test_a_full_paid_course_refuses_checkout_as_course_full(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    ada, bob = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, access="paid", price_cents=900, currency="usd", seat_limit=1)
    seated = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": ada.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert seated.status_code == 201, seated.text

    checkout = await client.post(f"/api/v1/courses/{course['id']}/checkout", headers=bob.headers)

    assert checkout.status_code == 409, checkout.text
    assert checkout.json()["type"].endswith("/course-full")


async def test_the_database_refuses_a_paid_course_with_a_waitlist(
    world: World, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin, access="paid", price_cents=900, currency="usd")

    with pytest.raises(IntegrityError):
        async with db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE courses SET waitlist = true WHERE id = :c"), {"c": course["id"]}
            )
