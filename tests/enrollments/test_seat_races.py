"""Seats and expiry under real concurrency on PostgreSQL: many learners at once never take more
seats than there are, a freed seat goes to exactly one learner, and two expiry jobs at once
expire each enrollment once."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from lectern.enrollments.expiry import run_expiry
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.conftest import LiveServer
from tests.factories import Person, World
from tests.rows import scalar

pytestmark = pytest.mark.postgres_only
AT_ONCE = 50
SEATS = 10


async def _enroll_at_once(
    server: LiveServer, learners: list[Person], course_id: int
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(learners), max_keepalive_connections=len(learners))
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        path = f"/api/v1/courses/{course_id}/enroll"
        responses = await asyncio.gather(
            *(http.post(path, headers=learner.headers) for learner in learners)
        )
    assert all(r.status_code < 500 for r in responses), [r.text for r in responses]
    return list(responses)


async def _seated(db: Database, course_id: int) -> int:
    return int(
        await scalar(
            db,
            "SELECT count(*) FROM enrollments WHERE course_id = :c"
            " AND status IN ('active', 'completed')",
            c=course_id,
        )
    )


async def test_fifty_simultaneous_self_enrolls_into_ten_seats_make_ten_enrollments(
    world: World, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    learners = [await world.student(admin.institution_slug) for _ in range(AT_ONCE)]
    course = await world.course(admin, access="open", seat_limit=SEATS)

    responses = await _enroll_at_once(live_server, learners, course["id"])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * SEATS + [409] * (AT_ONCE - SEATS)
    assert all(r.json()["type"].endswith("/course-full") for r in responses if r.status_code == 409)
    assert await _seated(db, course["id"]) == SEATS


async def test_fifty_simultaneous_self_enrolls_into_ten_seats_queue_forty_in_order(
    world: World, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    learners = [await world.student(admin.institution_slug) for _ in range(AT_ONCE)]
    course = await world.course(admin, access="open", seat_limit=SEATS, waitlist=True)

    responses = await _enroll_at_once(live_server, learners, course["id"])

    assert sorted(r.status_code for r in responses) == [201] * SEATS + [202] * (AT_ONCE - SEATS)
    positions = sorted(r.json()["position"] for r in responses if r.status_code == 202)
    assert positions == list(range(1, AT_ONCE - SEATS + 1))
    assert await _seated(db, course["id"]) == SEATS
    assert await scalar(db, "SELECT count(*) FROM waitlist_entries") == AT_ONCE - SEATS


async def test_a_seat_freed_while_ten_waitlisted_learners_race_goes_to_exactly_one(
    world: World, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    seated = await world.student(admin.institution_slug)
    waiting = [await world.student(admin.institution_slug) for _ in range(10)]
    course = await world.course(admin, access="open", seat_limit=1, waitlist=True)
    client_limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(
        base_url=live_server.url, limits=client_limits, timeout=60
    ) as http:
        path = f"/api/v1/courses/{course['id']}/enroll"
        enrollment = (await http.post(path, headers=seated.headers)).json()
        for learner in waiting:
            assert (await http.post(path, headers=learner.headers)).status_code == 202

        freed, *tries = await asyncio.gather(
            http.delete(f"/api/v1/admin/enrollments/{enrollment['id']}", headers=admin.headers),
            *(http.post(path, headers=learner.headers) for learner in waiting),
        )

    assert freed.status_code == 200, freed.text
    assert all(t.status_code in (200, 201, 202) for t in tries), [t.text for t in tries]
    assert await _seated(db, course["id"]) == 1
    first_in_line = await scalar(
        db,
        "SELECT user_id FROM enrollments WHERE status = 'active' AND course_id = :c",
        c=course["id"],
    )
    assert first_in_line == waiting[0].id
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'waitlist.enrolled'") == 1
    assert await scalar(db, "SELECT count(*) FROM waitlist_entries") == 9


async def test_two_expiry_jobs_at_once_expire_each_enrollment_once(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    ends = utcnow() + timedelta(hours=1)
    for _ in range(20):
        student = await world.student(admin.institution_slug)
        enrolled = await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": student.id, "course_id": course["id"], "ends_at": ends.isoformat()},
            headers=admin.headers,
        )
        assert enrolled.status_code == 201, enrolled.text
    later = ends + timedelta(seconds=1)

    runs = await asyncio.gather(
        *(db.run(lambda session: run_expiry(session, 7, now=later)) for _ in range(2))
    )

    assert sum(run.expired for run in runs) == 20
    assert await scalar(db, "SELECT count(*) FROM enrollments WHERE status = 'expired'") == 20
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'enrollment.expired'") == 20
    expired_notes = "SELECT count(*) FROM notifications WHERE kind = 'enrollment.expired'"
    assert await scalar(db, expired_notes) == 20
