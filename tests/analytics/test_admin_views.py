"""What admins and learners read: the request queue, students, analytics, notifications."""

from typing import Any

import httpx

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import row_counts, rows, scalar


async def _scene(world: World, client: httpx.AsyncClient) -> dict[str, Any]:
    """Two students, three courses: pending, approved, rejected, cancelled and admin-enrolled."""
    admin = await world.admin()
    ann = await world.student(admin.institution_slug, "Ann")
    bob = await world.student(admin.institution_slug, "Bob")
    alpha = await world.course(admin, title="Alpha")
    beta = await world.course(admin, title="Beta")
    gamma = await world.course(admin, title="Gamma", access="open")

    async def ask(student: Person, course: dict[str, Any]) -> int:
        r = await client.post(
            f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
        )
        return int(r.json()["id"])

    pending = await ask(ann, alpha)
    approved = await ask(bob, alpha)
    await client.post(f"/api/v1/admin/access-requests/{approved}/approve", headers=admin.headers)
    rejected = await ask(ann, beta)
    await client.post(f"/api/v1/admin/access-requests/{rejected}/reject", headers=admin.headers)
    await ask(bob, beta)
    await client.post(f"/api/v1/courses/{gamma['id']}/enroll", headers=ann.headers)
    enrolled = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": bob.id, "course_id": gamma["id"]},
        headers=admin.headers,
    )
    await client.delete(f"/api/v1/admin/enrollments/{enrolled.json()['id']}", headers=admin.headers)
    return {
        "admin": admin,
        "ann": ann,
        "bob": bob,
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "pending": pending,
    }


async def test_request_queue_filters_by_status(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await _scene(world, client)
    admin = scene["admin"]

    pending = (
        await client.get("/api/v1/admin/access-requests?status=pending", headers=admin.headers)
    ).json()

    expected = await rows(
        db, "SELECT id FROM access_requests WHERE status = 'pending' ORDER BY id DESC"
    )
    assert [r["id"] for r in pending] == [r["id"] for r in expected]
    assert {"course_title", "learner_name", "learner_email"} <= pending[0].keys()
    everything = (await client.get("/api/v1/admin/access-requests", headers=admin.headers)).json()
    assert len(everything) == await scalar(db, "SELECT count(*) FROM access_requests")
    by_course = (
        await client.get(
            f"/api/v1/admin/access-requests?status=pending&course_id={scene['alpha']['id']}",
            headers=admin.headers,
        )
    ).json()
    assert [r["id"] for r in by_course] == [scene["pending"]]
    bad = await client.get("/api/v1/admin/access-requests?status=maybe", headers=admin.headers)
    assert bad.status_code == 422


async def test_students_list_and_detail_count_the_rows(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await _scene(world, client)
    admin = scene["admin"]

    listed = (await client.get("/api/v1/admin/students", headers=admin.headers)).json()

    assert [s["full_name"] for s in listed] == ["Ann", "Bob"]
    for summary in listed:
        counts = await rows(
            db,
            "SELECT status, count(*) AS n FROM enrollments WHERE user_id = :u GROUP BY status",
            u=summary["id"],
        )
        by_status = {c["status"]: c["n"] for c in counts}
        assert summary["active_enrollments"] == by_status.get("active", 0)
        assert summary["completed_enrollments"] == by_status.get("completed", 0)
        assert summary["cancelled_enrollments"] == by_status.get("cancelled", 0)
        assert summary["pending_requests"] == await scalar(
            db,
            "SELECT count(*) FROM access_requests WHERE user_id = :u AND status = 'pending'",
            u=summary["id"],
        )
        detail = (
            await client.get(f"/api/v1/admin/students/{summary['id']}", headers=admin.headers)
        ).json()
        assert {k: detail[k] for k in summary} == summary
        assert len(detail["enrollments"]) == sum(by_status.values())
        assert len(detail["access_requests"]) == await scalar(
            db, "SELECT count(*) FROM access_requests WHERE user_id = :u", u=summary["id"]
        )
    assert (
        await client.get(f"/api/v1/admin/students/{admin.id}", headers=admin.headers)
    ).status_code == 404


async def test_analytics_equal_the_counts_of_the_rows(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await _scene(world, client)
    admin = scene["admin"]

    figures = (await client.get("/api/v1/admin/analytics", headers=admin.headers)).json()

    async def count(sql: str, **params: Any) -> int:
        return int(await scalar(db, sql, **params))

    assert figures["students"] == await count("SELECT count(*) FROM users WHERE role = 'student'")
    assert figures["active_enrollments"] == await count(
        "SELECT count(*) FROM enrollments WHERE status = 'active'"
    )
    assert figures["completed_enrollments"] == figures["completions"] == 0
    assert figures["pending_requests"] == await count(
        "SELECT count(*) FROM access_requests WHERE status = 'pending'"
    )
    assert figures["active_learners"] == await count(
        "SELECT count(DISTINCT user_id) FROM enrollments WHERE status = 'active'"
    )
    assert figures["average_progress"] == 0
    for course in figures["courses"]:
        for status in ("active", "completed", "cancelled"):
            assert course[f"{status}_enrollments"] == await count(
                "SELECT count(*) FROM enrollments WHERE course_id = :c AND status = :s",
                c=course["course_id"],
                s=status,
            )
        assert course["pending_requests"] == await count(
            "SELECT count(*) FROM access_requests WHERE course_id = :c AND status = 'pending'",
            c=course["course_id"],
        )
    assert [c["title"] for c in figures["courses"]] == ["Alpha", "Beta", "Gamma"]


async def test_notifications_list_and_mark_read_once(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await _scene(world, client)
    ann, bob = scene["ann"], scene["bob"]

    listed = (await client.get("/api/v1/me/notifications", headers=ann.headers)).json()

    assert [n["kind"] for n in listed] == ["request.rejected"]
    assert listed[0]["read_at"] is None
    first = await client.post(
        f"/api/v1/me/notifications/{listed[0]['id']}/read", headers=ann.headers
    )
    assert first.status_code == 200
    assert first.json()["read_at"] is not None
    before = await row_counts(db)
    again = await client.post(
        f"/api/v1/me/notifications/{listed[0]['id']}/read", headers=ann.headers
    )
    assert again.json() == first.json()
    assert await row_counts(db) == before
    unread = (await client.get("/api/v1/me/notifications?unread=true", headers=ann.headers)).json()
    assert unread == []
    foreign = await client.post(
        f"/api/v1/me/notifications/{listed[0]['id']}/read", headers=bob.headers
    )
    assert foreign.status_code == 404
    admin_kinds = [
        n["kind"]
        for n in (
            await client.get("/api/v1/me/notifications", headers=scene["admin"].headers)
        ).json()
    ]
    assert admin_kinds == ["request.created"] * 4
