"""Enrollment windows and enrollments that end: learners join on their own only while a course's
enrollment is open, and an enrollment past its end expires once, told ahead and when it happens,
keeping the learner's history but not the course."""

from datetime import datetime, timedelta
from typing import Any

import httpx

from lectern.enrollments.expiry import ExpiryRun, run_expiry
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.audit.recorded import audited
from tests.factories import Person, World
from tests.learning.course_fixtures import QUIZ
from tests.learning.test_content_access import assert_outline_only, course_of, lessons_of, seen_by
from tests.rows import rows, scalar


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def _expiry_at(db: Database, now: datetime, notice_days: int = 7) -> ExpiryRun:
    return await db.run(lambda session: run_expiry(session, notice_days, now=now))


async def _admin_enroll(
    client: httpx.AsyncClient, admin: Person, student: Person, course: dict[str, Any], **more: Any
) -> httpx.Response:
    body = {"user_id": student.id, "course_id": course["id"], **more}
    return await client.post("/api/v1/admin/enrollments", json=body, headers=admin.headers)


async def _enrolled_until(
    world: World, client: httpx.AsyncClient, ends: datetime
) -> tuple[Person, Person, dict[str, Any]]:
    """An admin, a student they enrolled in a new course until `ends`, and the enrollment."""
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    enrolled = await _admin_enroll(client, admin, student, course, ends_at=_iso(ends))
    assert enrolled.status_code == 201, enrolled.text
    return admin, student, enrolled.json()


async def test_outside_the_enrollment_window_learners_are_refused_and_admins_are_not(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    later = await world.course(
        admin, access="open", enrollment_opens_at=_iso(utcnow() + timedelta(days=1))
    )
    closed = await world.course(
        admin, access="open", enrollment_closes_at=_iso(utcnow() - timedelta(minutes=1))
    )
    sold = await world.course(
        admin,
        access="paid",
        price_cents=500,
        enrollment_closes_at=_iso(utcnow() - timedelta(minutes=1)),
    )

    refusals = [
        await client.post(f"/api/v1/courses/{later['id']}/enroll", headers=student.headers),
        await client.post(f"/api/v1/courses/{closed['id']}/enroll", headers=student.headers),
        await client.post(
            f"/api/v1/courses/{closed['id']}/access-requests", headers=student.headers
        ),
        await client.post(f"/api/v1/courses/{sold['id']}/checkout", headers=student.headers),
    ]

    for refused in refusals:
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/enrollment-closed")
    opens_at = refusals[0].json()["enrollment_opens_at"]
    assert datetime.fromisoformat(opens_at) == datetime.fromisoformat(later["enrollment_opens_at"])
    assert await scalar(db, "SELECT count(*) FROM enrollments") == 0
    assert await scalar(db, "SELECT count(*) FROM access_requests") == 0
    assert (await _admin_enroll(client, admin, student, closed)).status_code == 201


async def test_a_course_access_duration_ends_self_enrollments_and_admins_set_their_own_end(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner, other = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, access="open", access_days=30)
    before = utcnow()

    joined = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    ends = utcnow() + timedelta(days=90)
    by_admin = await _admin_enroll(client, admin, other, course, ends_at=_iso(ends))

    ends_at = datetime.fromisoformat(joined.json()["ends_at"])
    assert before + timedelta(days=30) <= ends_at <= utcnow() + timedelta(days=30)
    assert datetime.fromisoformat(by_admin.json()["ends_at"]) == ends
    mine = await client.get("/api/v1/me/enrollments", headers=learner.headers)
    assert mine.json()[0]["ends_at"] == joined.json()["ends_at"]


async def test_an_admin_end_in_the_past_or_without_an_offset_is_refused(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)

    past = await _admin_enroll(
        client, admin, student, course, ends_at=_iso(utcnow() - timedelta(hours=1))
    )
    naive = await _admin_enroll(client, admin, student, course, ends_at="2031-01-01T00:00:00")
    garbage = await _admin_enroll(client, admin, student, course, ends_at="soon")

    assert [past.status_code, naive.status_code, garbage.status_code] == [422, 422, 422]
    assert await scalar(db, "SELECT count(*) FROM enrollments") == 0


async def test_the_expiry_job_expires_an_ended_enrollment_once_and_tells_the_learner(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    ends = utcnow() + timedelta(hours=1)
    _, student, enrollment = await _enrolled_until(world, client, ends)

    early = await _expiry_at(db, ends - timedelta(seconds=1), notice_days=0)
    first = await _expiry_at(db, ends + timedelta(seconds=1))
    again = await _expiry_at(db, ends + timedelta(seconds=2))

    assert (early, first, again) == (ExpiryRun(0, 0), ExpiryRun(1, 0), ExpiryRun(0, 0))
    status = await scalar(db, "SELECT status FROM enrollments WHERE id = :i", i=enrollment["id"])
    assert status == "expired"
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'enrollment.expired'") == 1
    told = await rows(db, "SELECT kind FROM notifications WHERE user_id = :u", u=student.id)
    assert {"kind": "enrollment.expired"} in told


async def test_learners_are_told_once_that_their_enrollment_ends_soon(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    ends = utcnow() + timedelta(days=30)
    _, student, _ = await _enrolled_until(world, client, ends)

    too_early = await _expiry_at(db, ends - timedelta(days=8))
    told = await _expiry_at(db, ends - timedelta(days=6))
    again = await _expiry_at(db, ends - timedelta(days=5))

    assert (too_early.notified, told.notified, again.notified) == (0, 1, 0)
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'enrollment.expiring'") == 1
    kinds = await rows(db, "SELECT kind FROM notifications WHERE user_id = :u", u=student.id)
    assert kinds.count({"kind": "enrollment.expiring"}) == 1


async def test_an_expired_learner_keeps_their_history_but_cannot_take_the_course(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="open", access_days=10)
    await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    lessons = lessons_of(await seen_by(client, student, course))
    read, quiz = lessons[1], lessons[2]
    done = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": read["id"]}]},
        headers=student.headers,
    )
    assert done.json()["results"][0]["accepted"] is True
    progress = await scalar(db, "SELECT progress FROM enrollments")
    await _expiry_at(db, utcnow() + timedelta(days=11))

    assert_outline_only(await seen_by(client, student, course))
    activity = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": read["id"]}]},
        headers=student.headers,
    )
    attempt = await client.post(
        f"/api/v1/lessons/{quiz['id']}/quiz-attempts",
        json={"answers": [q["answer"] for q in QUIZ]},
        headers=student.headers,
    )
    qbank = await client.post(
        f"/api/v1/courses/{course['id']}/qbank-tests", json={"count": 2}, headers=student.headers
    )
    assert activity.json()["results"][0]["accepted"] is False
    assert attempt.status_code == 404
    assert qbank.status_code in (403, 404, 409)
    mine = (await client.get("/api/v1/me/enrollments", headers=student.headers)).json()
    assert [(e["status"], e["progress"]) for e in mine] == [("expired", progress)]
    assert await scalar(db, "SELECT count(*) FROM lesson_progress") == 1


async def test_re_enrolling_an_expired_enrollment_reactivates_the_same_row(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="open", access_days=5)
    first = (
        await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    ).json()
    await _expiry_at(db, utcnow() + timedelta(days=6))

    again = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)

    assert again.status_code == 201, again.text
    assert (again.json()["id"], again.json()["status"]) == (first["id"], "active")
    assert datetime.fromisoformat(again.json()["ends_at"]) > utcnow() + timedelta(days=4)
    assert await scalar(db, "SELECT count(*) FROM enrollments") == 1
    reactivated = "SELECT count(*) FROM events WHERE type = 'enrollment.reactivated'"
    assert await scalar(db, reactivated) == 1


async def test_an_expired_seat_goes_to_the_first_learner_waiting(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    seated, waiting = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, access="open", seat_limit=1, waitlist=True, access_days=1)
    for learner in (seated, waiting):
        await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)

    await _expiry_at(db, utcnow() + timedelta(days=2))

    found = await rows(db, "SELECT user_id, status FROM enrollments ORDER BY id")
    assert found == [
        {"user_id": seated.id, "status": "expired"},
        {"user_id": waiting.id, "status": "active"},
    ]
    assert await scalar(db, "SELECT count(*) FROM waitlist_entries") == 0


async def test_the_audit_finds_an_enrollment_active_past_its_end_and_repair_expires_it(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, _, _ = await _enrolled_until(world, client, utcnow() + timedelta(hours=1))
    async with db.engine.begin() as connection:  # behind the commands' back
        await connection.exec_driver_sql(
            "UPDATE enrollments SET ends_at = ends_at - interval '2 hours'"
            if db.is_postgres
            else "UPDATE enrollments SET ends_at = datetime(ends_at, '-2 hours')"
        )

    report = await audited(client, admin.headers)
    repaired = await client.post(
        "/api/v1/admin/consistency/repair", json={"dry_run": False}, headers=admin.headers
    )
    after = await audited(client, admin.headers)

    def count(answer: httpx.Response) -> int:
        findings = answer.json()["findings"]
        return next(f["count"] for f in findings if f["name"] == "active_past_their_end")

    assert (count(report), count(after)) == (1, 0), repaired.text
    assert await scalar(db, "SELECT status FROM enrollments") == "expired"
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'enrollment.expired'") == 1
