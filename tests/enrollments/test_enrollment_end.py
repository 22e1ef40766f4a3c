"""PATCH /api/v1/admin/enrollments/{id} `{ends_at}`: an admin extends an active enrollment, ends
it sooner or takes its end away; the learner is told, expiry follows the new end, and the
notice before it comes again. Bad ends and enrollments that are not active are refused."""

from datetime import datetime, timedelta
from typing import Any

import httpx

from lectern.enrollments.expiry import ExpiryRun, run_expiry
from lectern.models.base import utcnow
from lectern.models.enums import Role
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import event_types, last_event_id, rows


async def _expiry_at(db: Database, now: datetime, notice_days: int = 7) -> ExpiryRun:
    return await db.run(lambda session: run_expiry(session, notice_days, now=now))


async def _enrolled(
    client: httpx.AsyncClient,
    admin: Person,
    student: Person,
    course: dict[str, Any],
    ends: datetime,
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course["id"], "ends_at": ends.isoformat()},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    enrollment: dict[str, Any] = r.json()
    return enrollment


async def _change(
    client: httpx.AsyncClient, person: Person, enrollment_id: int, ends_at: datetime | None
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/admin/enrollments/{enrollment_id}",
        json={"ends_at": None if ends_at is None else ends_at.isoformat()},
        headers=person.headers,
    )


async def _row(db: Database, enrollment_id: int) -> dict[str, Any]:
    found = await rows(
        db,
        "SELECT status, ends_at, expiry_notified_at FROM enrollments WHERE id = :i",
        i=enrollment_id,
    )
    return found[0]


async def test_an_extended_enrollment_expires_at_its_new_end_and_is_told_again_before_it(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug)
    course = await world.course(admin, title="Glaciers")
    now = utcnow()
    enrollment = await _enrolled(client, admin, ada, course, now + timedelta(days=2))
    told = await _expiry_at(db, now)
    assert told == ExpiryRun(expired=0, notified=1)
    start = await last_event_id(db)
    later = (now + timedelta(days=20)).replace(microsecond=0)

    extended = await _change(client, admin, enrollment["id"], later)

    assert extended.status_code == 200, extended.text
    assert extended.json()["ends_at"].startswith(later.strftime("%Y-%m-%dT%H:%M:%S"))
    assert (await _row(db, enrollment["id"]))["expiry_notified_at"] is None
    changed = await rows(
        db, "SELECT payload FROM events WHERE id > :s AND type = 'enrollment.end_changed'", s=start
    )
    assert len(changed) == 1
    assert await event_types(db, start) == ["enrollment.end_changed", "notification.created"]
    notes = await rows(db, "SELECT title FROM notifications WHERE user_id = :u", u=ada.id)
    assert f"Your access to Glaciers now ends {later:%Y-%m-%d %H:%M} UTC" in [
        n["title"] for n in notes
    ]

    assert await _expiry_at(db, now + timedelta(days=3)) == ExpiryRun(expired=0, notified=0)
    assert await _expiry_at(db, now + timedelta(days=14)) == ExpiryRun(expired=0, notified=1)
    assert await _expiry_at(db, later + timedelta(minutes=1)) == ExpiryRun(expired=1, notified=0)
    assert (await _row(db, enrollment["id"]))["status"] == "expired"


async def test_an_end_taken_away_never_expires_and_the_same_end_again_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug)
    course = await world.course(admin)
    now = utcnow()
    enrollment = await _enrolled(client, admin, ada, course, now + timedelta(hours=1))

    lasting = await _change(client, admin, enrollment["id"], None)
    start = await last_event_id(db)
    again = await _change(client, admin, enrollment["id"], None)

    assert lasting.status_code == again.status_code == 200, lasting.text
    assert lasting.json()["ends_at"] is None
    assert await event_types(db, start) == []
    assert await _expiry_at(db, now + timedelta(days=3650)) == ExpiryRun(expired=0, notified=0)
    assert (await _row(db, enrollment["id"]))["status"] == "active"


async def test_a_past_end_and_an_enrollment_that_is_not_active_are_refused_changing_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, bob = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin)
    now = utcnow()
    active = await _enrolled(client, admin, ada, course, now + timedelta(hours=1))
    ending = await _enrolled(client, admin, bob, course, now + timedelta(hours=1))
    await _expiry_at(db, now + timedelta(hours=2))
    assert (await _row(db, ending["id"]))["status"] == "expired"
    before = await _row(db, active["id"])
    start = await last_event_id(db)

    past = await _change(client, admin, active["id"], now - timedelta(minutes=1))
    expired = await _change(client, admin, ending["id"], now + timedelta(days=5))
    cancelled_id = (
        await client.delete(f"/api/v1/admin/enrollments/{active['id']}", headers=admin.headers)
    ).json()["id"]
    start_after_cancel = await last_event_id(db)
    cancelled = await _change(client, admin, cancelled_id, now + timedelta(days=5))
    no_zone = await client.patch(
        f"/api/v1/admin/enrollments/{ending['id']}",
        json={"ends_at": "2099-01-01T00:00:00"},
        headers=admin.headers,
    )
    missing = await client.patch(
        f"/api/v1/admin/enrollments/{ending['id']}", json={}, headers=admin.headers
    )

    assert past.status_code == 422, past.text
    assert past.json()["type"].endswith("/ends-in-the-past")
    assert expired.status_code == 409, expired.text
    assert expired.json()["type"].endswith("/enrollment-not-active")
    assert "Enroll the learner again" in expired.json()["detail"]
    assert cancelled.status_code == 409
    assert no_zone.status_code == missing.status_code == 422
    assert before["ends_at"] is not None
    assert "enrollment.end_changed" not in await event_types(db, start)
    assert await event_types(db, start_after_cancel) == []


async def test_only_admins_change_an_end_and_another_institutions_enrollment_is_unknown(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug)
    instructor = await world.admin(role=Role.INSTRUCTOR)
    course = await world.course(admin)
    await world.make_staff(admin, course, instructor)
    enrollment = await _enrolled(client, admin, ada, course, utcnow() + timedelta(days=1))
    elsewhere = await world.admin("Elsewhere College")
    later = utcnow() + timedelta(days=9)

    as_student = await _change(client, ada, enrollment["id"], later)
    as_instructor = await _change(client, instructor, enrollment["id"], later)
    as_stranger = await _change(client, elsewhere, enrollment["id"], later)
    unknown = await _change(client, elsewhere, 999_999, later)

    assert as_student.status_code == as_instructor.status_code == 403
    assert as_stranger.status_code == 404
    assert as_stranger.json() == unknown.json()
    row = await _row(db, enrollment["id"])
    assert str(row["ends_at"])[:10] == enrollment["ends_at"][:10]
