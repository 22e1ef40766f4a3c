"""Real concurrent HTTP requests against a uvicorn server on PostgreSQL: the database keeps
one enrollment and one pending request per pair, whatever arrives at once."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from lectern.platform.db import Database
from tests.conftest import LiveServer
from tests.factories import World
from tests.rows import rows, scalar

pytestmark = pytest.mark.postgres_only
AT_ONCE = 50


async def _all_at_once(
    server: LiveServer, send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
) -> list[int]:
    limits = httpx.Limits(max_connections=AT_ONCE, max_keepalive_connections=AT_ONCE)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        responses = await asyncio.gather(*(send(http, i) for i in range(AT_ONCE)))
    statuses = [r.status_code for r in responses]
    assert all(status < 500 for status in statuses), [
        r.text for r in responses if r.status_code >= 500
    ]
    return statuses


async def test_fifty_concurrent_approvals_make_one_enrollment(
    world: World, client: httpx.AsyncClient, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    admins = [admin, await world.admin(), await world.admin()]
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    request = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    path = f"/api/v1/admin/access-requests/{request.json()['id']}/approve"

    statuses = await _all_at_once(
        live_server, lambda http, i: http.post(path, headers=admins[i % len(admins)].headers)
    )

    assert set(statuses) <= {200, 409}, statuses
    assert 200 in statuses
    enrollments = await rows(db, "SELECT status, source FROM enrollments")
    assert enrollments == [{"status": "active", "source": "request"}]
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'enrollment.created'") == 1
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'request.approved'") == 1
    assert (
        await scalar(db, "SELECT count(*) FROM notifications WHERE user_id = :u", u=student.id) == 1
    )


async def test_fifty_concurrent_self_and_admin_enrolls_make_one_enrollment(
    world: World, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="open")
    pair = {"user_id": student.id, "course_id": course["id"]}

    def send(http: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        if i % 2:
            return http.post("/api/v1/admin/enrollments", json=pair, headers=admin.headers)
        return http.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)

    statuses = await _all_at_once(live_server, send)

    assert set(statuses) <= {200, 201}, statuses
    assert statuses.count(201) == 1
    assert await scalar(db, "SELECT count(*) FROM enrollments") == 1
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'enrollment.created'") == 1


async def test_fifty_concurrent_access_requests_make_one_pending_request(
    world: World, db: Database, live_server: LiveServer
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    path = f"/api/v1/courses/{course['id']}/access-requests"

    statuses = await _all_at_once(
        live_server, lambda http, _: http.post(path, headers=student.headers)
    )

    assert set(statuses) <= {200, 201}, statuses
    assert statuses.count(201) == 1
    assert await rows(db, "SELECT status FROM access_requests") == [{"status": "pending"}]
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'request.created'") == 1
    assert (
        await scalar(db, "SELECT count(*) FROM notifications WHERE user_id = :u", u=admin.id) == 1
    )


async def test_fifty_concurrent_mixed_reviews_leave_one_outcome(
    world: World, client: httpx.AsyncClient, db: Database, live_server: LiveServer
) -> None:
    """Approvals, rejections and the student's cancellations race: exactly one of them wins."""
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    request = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    request_id = request.json()["id"]

    def send(http: httpx.AsyncClient, i: int) -> Awaitable[httpx.Response]:
        if i % 3 == 0:
            return http.delete(f"/api/v1/access-requests/{request_id}", headers=student.headers)
        verb = "approve" if i % 3 == 1 else "reject"
        return http.post(
            f"/api/v1/admin/access-requests/{request_id}/{verb}", headers=admin.headers
        )

    statuses = await _all_at_once(live_server, send)

    assert set(statuses) <= {200, 409}, statuses
    final = await scalar(db, "SELECT status FROM access_requests WHERE id = :i", i=request_id)
    enrollments = await scalar(db, "SELECT count(*) FROM enrollments")
    assert enrollments == (1 if final == "approved" else 0)
    closing_events = await scalar(
        db,
        "SELECT count(*) FROM events WHERE type IN "
        "('request.approved', 'request.rejected', 'request.cancelled')",
    )
    assert closing_events == 1
