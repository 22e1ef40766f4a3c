"""Real concurrent HTTP against a uvicorn server on PostgreSQL: enrollments, cancellations,
progress and requests on one course at once leave every tally equal to its rows."""

import asyncio
from collections.abc import Awaitable

import httpx
import pytest

from lectern.platform.db import Database
from tests.audit.recorded import audited
from tests.conftest import LiveServer
from tests.factories import Person, World
from tests.rows import scalar

pytestmark = pytest.mark.postgres_only
AT_ONCE = 40
TALLIES = [
    "course_tallies_off",
    "learner_tallies_off",
    "progress_buckets_off",
    "completion_days_off",
    "institution_tallies_off",
]


async def test_forty_concurrent_commands_on_one_course_keep_every_tally_equal_to_its_rows(
    world: World, client: httpx.AsyncClient, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    readings = [{"title": f"R{n}", "kind": "reading"} for n in range(3)]
    course = await world.course(
        admin, access="open", chapters=[{"title": "One", "lessons": readings}]
    )
    asked = await world.course(admin)
    lessons = [lesson["id"] for lesson in course["chapters"][0]["lessons"]]
    students = [await world.student(admin.institution_slug) for _ in range(AT_ONCE)]
    enrollment_ids = {}
    for student in students[: AT_ONCE // 2]:
        enrolled = await client.post(
            f"/api/v1/courses/{course['id']}/enroll", headers=student.headers
        )
        enrollment_ids[student.id] = enrolled.json()["id"]

    def command(http: httpx.AsyncClient, i: int, student: Person) -> Awaitable[httpx.Response]:
        if i < AT_ONCE // 4:
            done = lessons if i % 2 else lessons[:1]
            events = [{"type": "lesson.completed", "lesson_id": lesson} for lesson in done]
            return http.post("/api/v1/activity", json={"events": events}, headers=student.headers)
        if i < AT_ONCE // 2:
            return http.delete(
                f"/api/v1/admin/enrollments/{enrollment_ids[student.id]}", headers=admin.headers
            )
        if i % 2:
            return http.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
        return http.post(f"/api/v1/courses/{asked['id']}/access-requests", headers=student.headers)

    limits = httpx.Limits(max_connections=AT_ONCE, max_keepalive_connections=AT_ONCE)
    async with httpx.AsyncClient(base_url=live_server.url, limits=limits, timeout=60) as http:
        responses = await asyncio.gather(
            *(command(http, i, student) for i, student in enumerate(students))
        )
    assert all(r.status_code < 300 for r in responses), [r.text for r in responses]

    report = await audited(client, admin.headers)
    found = {f["name"]: f["count"] for f in report.json()["findings"] if f["name"] in TALLIES}
    assert found == dict.fromkeys(TALLIES, 0)
    figures = (await client.get("/api/v1/admin/analytics", headers=admin.headers)).json()
    assert figures["active_enrollments"] == await scalar(
        db, "SELECT count(*) FROM enrollments WHERE status = 'active'"
    )
    assert figures["completed_enrollments"] == AT_ONCE // 8
    assert figures["pending_requests"] == AT_ONCE // 4
    assert figures["active_learners"] == await scalar(
        db, "SELECT count(DISTINCT user_id) FROM enrollments WHERE status = 'active'"
    )
