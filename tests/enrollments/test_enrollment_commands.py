"""Each enrollment command's rows, events and notifications; repeating it writes nothing new."""

from typing import Any

import httpx
import pytest

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import (
    event_types,
    insert_learning_facts,
    last_event_id,
    row_counts,
    rows,
)


async def _setup(world: World, access: str = "approval") -> tuple[Person, Person, dict[str, Any]]:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(
        admin, access=access, **({"price_cents": 900} if access == "paid" else {})
    )
    return admin, student, course


async def _request(client: httpx.AsyncClient, student: Person, course_id: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/courses/{course_id}/access-requests", headers=student.headers
    )


async def _enrollments(db: Database, user_id: int) -> list[dict[str, Any]]:
    return await rows(
        db,
        "SELECT course_id, status, source FROM enrollments WHERE user_id = :u ORDER BY id",
        u=user_id,
    )


async def _notifications(db: Database, user_id: int) -> list[str]:
    found = await rows(
        db, "SELECT kind FROM notifications WHERE user_id = :u ORDER BY id", u=user_id
    )
    return [r["kind"] for r in found]


async def test_request_for_approval_course_is_pending_and_tells_the_admins(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    second_admin = await world.admin()
    start = await last_event_id(db)

    r = await _request(client, student, course["id"])

    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["user_id"], body["course_id"]) == (
        "pending",
        student.id,
        course["id"],
    )
    assert {"id", "note", "created_at", "reviewed_at"} <= body.keys()
    assert await _enrollments(db, student.id) == []
    assert await event_types(db, start) == [
        "request.created",
        "notification.created",
        "notification.created",
    ]
    assert await _notifications(db, admin.id) == ["request.created"]
    assert await _notifications(db, second_admin.id) == ["request.created"]
    assert await _notifications(db, student.id) == []


async def test_repeated_request_returns_the_pending_one_and_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    _, student, course = await _setup(world)
    first = await _request(client, student, course["id"])
    before = await row_counts(db)

    again = await _request(client, student, course["id"])

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await row_counts(db) == before


@pytest.mark.parametrize("access", ["open", "default"])
async def test_request_for_open_or_default_course_enrolls_at_once(
    world: World, client: httpx.AsyncClient, db: Database, access: str
) -> None:
    _, student, course = await _setup(world, access)
    start = await last_event_id(db)

    r = await _request(client, student, course["id"])

    assert r.status_code == 201, r.text
    assert r.json()["status"] == "approved"
    assert r.json()["enrollment"]["status"] == "active"
    assert await _enrollments(db, student.id) == [
        {"course_id": course["id"], "status": "active", "source": "self"}
    ]
    assert await event_types(db, start) == ["enrollment.created"]
    pending = await rows(db, "SELECT id FROM access_requests WHERE status = 'pending'")
    assert pending == []


async def test_request_for_paid_course_is_refused(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    _, student, course = await _setup(world, "paid")
    before = await row_counts(db)
    r = await _request(client, student, course["id"])
    assert r.status_code == 409
    assert r.json()["type"].endswith("payment-required")
    assert await row_counts(db) == before


async def test_request_when_enrolled_is_refused(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert r.status_code == 201
    before = await row_counts(db)
    r = await _request(client, student, course["id"])
    assert r.status_code == 409
    assert r.json()["type"].endswith("already-enrolled")
    assert await row_counts(db) == before


async def test_cancel_withdraws_the_request_once(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    _, student, course = await _setup(world)
    request_id = (await _request(client, student, course["id"])).json()["id"]
    start = await last_event_id(db)

    r = await client.delete(f"/api/v1/access-requests/{request_id}", headers=student.headers)

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert await event_types(db, start) == ["request.cancelled"]
    before = await row_counts(db)
    again = await client.delete(f"/api/v1/access-requests/{request_id}", headers=student.headers)
    assert again.status_code == 200
    assert again.json() == r.json()
    assert await row_counts(db) == before
    assert await event_types(db, start) == ["request.cancelled"]


async def test_cancel_of_someone_elses_request_is_not_found(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    other = await world.student(admin.institution_slug)
    request_id = (await _request(client, student, course["id"])).json()["id"]
    before = await row_counts(db)
    r = await client.delete(f"/api/v1/access-requests/{request_id}", headers=other.headers)
    assert r.status_code == 404
    assert await row_counts(db) == before


async def test_approve_enrolls_notifies_and_is_idempotent(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    request_id = (await _request(client, student, course["id"])).json()["id"]
    start = await last_event_id(db)

    r = await client.post(
        f"/api/v1/admin/access-requests/{request_id}/approve",
        json={"note": "Welcome"},
        headers=admin.headers,
    )

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["note"], body["reviewer_id"]) == ("approved", "Welcome", admin.id)
    assert body["reviewed_at"] is not None
    assert body["enrollment"]["status"] == "active"
    assert await _enrollments(db, student.id) == [
        {"course_id": course["id"], "status": "active", "source": "request"}
    ]
    assert await event_types(db, start) == [
        "enrollment.created",
        "request.approved",
        "notification.created",
    ]
    assert await _notifications(db, student.id) == ["request.approved"]

    before = await row_counts(db)
    again = await client.post(
        f"/api/v1/admin/access-requests/{request_id}/approve", headers=admin.headers
    )
    assert again.status_code == 200
    assert again.json()["status"] == "approved"
    assert again.json()["enrollment"]["id"] == body["enrollment"]["id"]
    assert await row_counts(db) == before


async def test_reject_keeps_the_note_notifies_and_is_idempotent(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    request_id = (await _request(client, student, course["id"])).json()["id"]
    start = await last_event_id(db)

    r = await client.post(
        f"/api/v1/admin/access-requests/{request_id}/reject",
        json={"note": "Prerequisites missing"},
        headers=admin.headers,
    )

    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["note"]) == ("rejected", "Prerequisites missing")
    assert await _enrollments(db, student.id) == []
    assert await event_types(db, start) == ["request.rejected", "notification.created"]
    assert await _notifications(db, student.id) == ["request.rejected"]
    catalog = (await client.get("/api/v1/courses", headers=student.headers)).json()
    assert [(c["enrollment_status"], c["request_status"]) for c in catalog] == [(None, "rejected")]

    before = await row_counts(db)
    again = await client.post(
        f"/api/v1/admin/access-requests/{request_id}/reject", headers=admin.headers
    )
    assert again.status_code == 200
    assert again.json()["note"] == "Prerequisites missing"
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("first", "then"), [("reject", "approve"), ("approve", "reject"), ("cancel", "approve")]
)
async def test_a_closed_request_cannot_be_reviewed_the_other_way(
    world: World, client: httpx.AsyncClient, db: Database, first: str, then: str
) -> None:
    admin, student, course = await _setup(world)
    request_id = (await _request(client, student, course["id"])).json()["id"]
    if first == "cancel":
        r = await client.delete(f"/api/v1/access-requests/{request_id}", headers=student.headers)
    else:
        r = await client.post(
            f"/api/v1/admin/access-requests/{request_id}/{first}", headers=admin.headers
        )
    assert r.status_code == 200
    before = await row_counts(db)
    r = await client.post(
        f"/api/v1/admin/access-requests/{request_id}/{then}", headers=admin.headers
    )
    assert r.status_code == 409
    assert r.json()["type"].endswith("request-closed")
    assert await row_counts(db) == before


@pytest.mark.parametrize("access", ["open", "default"])
async def test_self_enroll_in_open_or_default_course(
    world: World, client: httpx.AsyncClient, db: Database, access: str
) -> None:
    _, student, course = await _setup(world, access)
    start = await last_event_id(db)

    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)

    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["source"], r.json()["progress"]) == ("active", "self", 0)
    assert {"id", "user_id", "course_id", "completed_at"} <= r.json().keys()
    assert await event_types(db, start) == ["enrollment.created"]
    before = await row_counts(db)
    again = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"]
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("access", "slug"), [("approval", "approval-required"), ("paid", "payment-required")]
)
async def test_self_enroll_refused_where_approval_or_payment_is_needed(
    world: World, client: httpx.AsyncClient, db: Database, access: str, slug: str
) -> None:
    _, student, course = await _setup(world, access)
    before = await row_counts(db)
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    assert r.status_code == 409
    assert r.json()["type"].endswith(slug)
    assert await row_counts(db) == before


async def test_admin_enroll_closes_the_pending_request_as_approved(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    request_id = (await _request(client, student, course["id"])).json()["id"]
    start = await last_event_id(db)

    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course["id"]},
        headers=admin.headers,
    )

    assert r.status_code == 201, r.text
    assert r.json()["source"] == "admin"
    request = (
        await rows(
            db, "SELECT status, reviewer_id FROM access_requests WHERE id = :i", i=request_id
        )
    )[0]
    assert request == {"status": "approved", "reviewer_id": admin.id}
    assert await event_types(db, start) == [
        "request.approved",
        "enrollment.created",
        "notification.created",
    ]
    assert await _notifications(db, student.id) == ["enrollment.created"]
    before = await row_counts(db)
    again = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"]
    assert await row_counts(db) == before


async def test_unenroll_keeps_the_row_and_admin_enroll_reactivates_it(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    pair = {"user_id": student.id, "course_id": course["id"]}
    enrollment = (
        await client.post("/api/v1/admin/enrollments", json=pair, headers=admin.headers)
    ).json()
    start = await last_event_id(db)

    r = await client.delete(f"/api/v1/admin/enrollments/{enrollment['id']}", headers=admin.headers)

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert await _enrollments(db, student.id) == [
        {"course_id": course["id"], "status": "cancelled", "source": "admin"}
    ]
    assert await event_types(db, start) == ["enrollment.cancelled", "notification.created"]
    assert (await _notifications(db, student.id))[-1] == "enrollment.cancelled"
    before = await row_counts(db)
    again = await client.delete(
        f"/api/v1/admin/enrollments/{enrollment['id']}", headers=admin.headers
    )
    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"
    assert await row_counts(db) == before

    start = await last_event_id(db)
    back = await client.post("/api/v1/admin/enrollments", json=pair, headers=admin.headers)
    assert back.status_code == 201
    assert back.json()["id"] == enrollment["id"]
    assert back.json()["status"] == "active"
    assert await event_types(db, start) == ["enrollment.reactivated", "notification.created"]
    assert len(await _enrollments(db, student.id)) == 1


async def test_unenroll_keeps_learning_facts(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, _ = await _setup(world)
    course = await world.course(
        admin,
        chapters=[{"title": "One", "lessons": [{"title": "Read", "kind": "reading", "body": "x"}]}],
    )
    pair = {"user_id": student.id, "course_id": course["id"]}
    enrollment = (
        await client.post("/api/v1/admin/enrollments", json=pair, headers=admin.headers)
    ).json()
    lesson_id = course["chapters"][0]["lessons"][0]["id"]
    await insert_learning_facts(db, enrollment["id"], lesson_id)
    r = await client.delete(f"/api/v1/admin/enrollments/{enrollment['id']}", headers=admin.headers)
    assert r.status_code == 200
    facts = await rows(
        db, "SELECT lesson_id FROM lesson_progress WHERE enrollment_id = :e", e=enrollment["id"]
    )
    assert facts == [{"lesson_id": lesson_id}]


async def test_unenroll_cancels_a_pending_request_of_the_pair(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course = await _setup(world)
    pair = {"user_id": student.id, "course_id": course["id"]}
    enrollment = (
        await client.post("/api/v1/admin/enrollments", json=pair, headers=admin.headers)
    ).json()
    await client.delete(f"/api/v1/admin/enrollments/{enrollment['id']}", headers=admin.headers)
    request = await _request(client, student, course["id"])
    assert request.status_code == 201
    assert request.json()["status"] == "pending"
    approved = await client.post(
        f"/api/v1/admin/access-requests/{request.json()['id']}/approve", headers=admin.headers
    )
    assert approved.json()["enrollment"]["id"] == enrollment["id"]
    assert approved.json()["enrollment"]["status"] == "active"


async def test_my_enrollments_and_requests_show_only_the_callers_own(
    world: World, client: httpx.AsyncClient
) -> None:
    admin, student, course = await _setup(world)
    other = await world.student(admin.institution_slug)
    open_course = await world.course(admin, access="open")
    await _request(client, student, course["id"])
    await _request(client, other, course["id"])
    await client.post(f"/api/v1/courses/{open_course['id']}/enroll", headers=student.headers)

    mine = (await client.get("/api/v1/me/enrollments", headers=student.headers)).json()
    assert [(e["course_id"], e["status"], e["progress"]) for e in mine] == [
        (open_course["id"], "active", 0)
    ]
    requests = (await client.get("/api/v1/me/access-requests", headers=student.headers)).json()
    assert [(r["course_id"], r["user_id"], r["status"]) for r in requests] == [
        (course["id"], student.id, "pending")
    ]
