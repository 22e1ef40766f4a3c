"""Seat limits: a full course refuses, or keeps its learners in line and seats the first of them
in the transaction that frees a seat; admins go beyond the limit only when they say so."""

from typing import Any

import httpx

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import event_types, last_event_id, rows, scalar


async def _enroll(client: httpx.AsyncClient, student: Person, course: dict[str, Any]) -> Any:
    return await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)


async def _seated(db: Database, course: dict[str, Any]) -> list[int]:
    found = await rows(
        db,
        "SELECT user_id FROM enrollments WHERE course_id = :c AND status = 'active' ORDER BY id",
        c=course["id"],
    )
    return [row["user_id"] for row in found]


async def _one_seat_taken(
    world: World, client: httpx.AsyncClient, learners: int
) -> tuple[Person, list[Person], dict[str, Any]]:
    """An admin, `learners` students of theirs, and an open course of one seat with a waitlist,
    taken by the first of them."""
    admin = await world.admin()
    students = [await world.student(admin.institution_slug) for _ in range(learners)]
    course = await world.course(admin, access="open", seat_limit=1, waitlist=True)
    taken = await _enroll(client, students[0], course)
    assert taken.status_code == 201, taken.text
    return admin, students, course


async def test_a_full_course_refuses_the_next_learner_with_course_full(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    first, second = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, access="open", seat_limit=1)

    assert (await _enroll(client, first, course)).status_code == 201
    refused = await _enroll(client, second, course)

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/course-full")
    assert await _seated(db, course) == [first.id]
    assert await scalar(db, "SELECT count(*) FROM waitlist_entries") == 0
    listed = await client.get(f"/api/v1/courses/{course['id']}", headers=second.headers)
    assert listed.json()["seat_limit"] == 1
    assert listed.json()["seats_left"] == 0


async def test_a_full_course_with_a_waitlist_keeps_learners_in_line_in_order(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    _, (seated, second, third), course = await _one_seat_taken(world, client, 3)

    waiting = [await _enroll(client, learner, course) for learner in (second, third, second)]

    assert [w.status_code for w in waiting] == [202, 202, 202]
    assert [w.json()["position"] for w in waiting] == [1, 2, 1]
    assert await _seated(db, course) == [seated.id]
    mine = await client.get("/api/v1/me/waitlist", headers=third.headers)
    assert mine.json() == [
        {
            "course_id": course["id"],
            "user_id": third.id,
            "position": 2,
            "course_title": course["title"],
        }
    ]
    page = await client.get(f"/api/v1/courses/{course['id']}", headers=third.headers)
    assert (page.json()["seats_left"], page.json()["waitlist_position"]) == (0, 2)
    joined = await scalar(db, "SELECT count(*) FROM events WHERE type = 'waitlist.joined'")
    assert joined == 2


async def test_a_seat_freed_by_an_admin_goes_to_the_first_in_line_at_once(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (seated, second, third), course = await _one_seat_taken(world, client, 3)
    enrollment = (await client.get("/api/v1/me/enrollments", headers=seated.headers)).json()[0]
    for learner in (second, third):
        await _enroll(client, learner, course)
    since = await last_event_id(db)

    freed = await client.delete(
        f"/api/v1/admin/enrollments/{enrollment['id']}", headers=admin.headers
    )

    assert freed.status_code == 200, freed.text
    assert await _seated(db, course) == [second.id]
    assert "waitlist.enrolled" in await event_types(db, since)
    told = await rows(
        db, "SELECT kind FROM notifications WHERE user_id = :u ORDER BY id", u=second.id
    )
    assert told[-1]["kind"] == "waitlist.enrolled"
    mine = await client.get("/api/v1/me/waitlist", headers=third.headers)
    assert [place["position"] for place in mine.json()] == [1]
    assert (await client.get("/api/v1/me/waitlist", headers=second.headers)).json() == []


async def test_admins_enroll_beyond_the_limit_only_with_override_seat_limit(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (seated, extra), course = await _one_seat_taken(world, client, 2)
    pair = {"user_id": extra.id, "course_id": course["id"]}

    refused = await client.post("/api/v1/admin/enrollments", json=pair, headers=admin.headers)
    overridden = await client.post(
        "/api/v1/admin/enrollments",
        json=pair | {"override_seat_limit": True},
        headers=admin.headers,
    )

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/course-full")
    assert overridden.status_code == 201, overridden.text
    assert await _seated(db, course) == [seated.id, extra.id]
    assert await scalar(db, "SELECT count(*) FROM waitlist_entries") == 0


async def test_raising_the_seat_limit_seats_the_waiting_learners(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    learners = [await world.student(admin.institution_slug) for _ in range(4)]
    course = await world.course(admin, access="open", seat_limit=1, waitlist=True)
    for learner in learners:
        await _enroll(client, learner, course)

    raised = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"seat_limit": 3}, headers=admin.headers
    )
    assert raised.status_code == 200, raised.text
    assert await _seated(db, course) == [learner.id for learner in learners[:3]]

    lifted = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"seat_limit": None}, headers=admin.headers
    )
    assert lifted.json()["seat_limit"] is None
    assert await _seated(db, course) == [learner.id for learner in learners]
    assert await scalar(db, "SELECT count(*) FROM waitlist_entries") == 0


async def test_a_learner_leaves_the_waitlist_and_the_line_moves_up(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    _, (_, second, third), course = await _one_seat_taken(world, client, 3)
    for learner in (second, third):
        await _enroll(client, learner, course)
    path = f"/api/v1/courses/{course['id']}/waitlist"

    assert (await client.delete(path, headers=second.headers)).status_code == 204
    assert (await client.delete(path, headers=second.headers)).status_code == 204

    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'waitlist.left'") == 1
    mine = await client.get("/api/v1/me/waitlist", headers=third.headers)
    assert [place["position"] for place in mine.json()] == [1]


async def test_an_open_course_access_request_joins_the_waitlist_when_full(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    _, (_, second), course = await _one_seat_taken(world, client, 2)

    asked = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=second.headers
    )

    assert asked.status_code == 202, asked.text
    assert asked.json()["position"] == 1
    assert (
        await scalar(db, "SELECT count(*) FROM access_requests WHERE user_id = :u", u=second.id)
        == 0
    )


async def test_approving_a_request_into_a_full_course_is_refused_and_keeps_it_pending(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    seated, asking = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, access="approval", seat_limit=1)
    await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": seated.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    request = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=asking.headers
    )

    approved = await client.post(
        f"/api/v1/admin/access-requests/{request.json()['id']}/approve", headers=admin.headers
    )

    assert approved.status_code == 409
    assert approved.json()["type"].endswith("/course-full")
    status = await scalar(
        db, "SELECT status FROM access_requests WHERE id = :i", i=request.json()["id"]
    )
    assert status == "pending"


async def test_checkout_of_a_full_paid_course_is_refused(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    seated, buyer = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, access="paid", price_cents=1000, seat_limit=1)
    await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": seated.id, "course_id": course["id"]},
        headers=admin.headers,
    )

    checkout = await client.post(f"/api/v1/courses/{course['id']}/checkout", headers=buyer.headers)

    assert checkout.status_code == 409
    assert checkout.json()["type"].endswith("/course-full")
    assert await scalar(db, "SELECT count(*) FROM payments") == 0


async def test_bad_seat_limits_and_windows_are_refused_and_nulls_clear_them(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await world.course(admin, seat_limit=5, access_days=30)
    path = f"/api/v1/courses/{course['id']}"
    bad = [
        {"seat_limit": -1},
        {"seat_limit": 10**12},
        {"access_days": 0},
        {
            "enrollment_opens_at": "2030-01-02T00:00:00Z",
            "enrollment_closes_at": "2030-01-01T00:00:00Z",
        },
        {"enrollment_opens_at": "2030-01-02T00:00:00"},  # no offset
        {"enrollment_opens_at": "9999-12-31T23:00:00-05:00"},
    ]

    for body in bad:
        refused = await client.patch(path, json=body, headers=admin.headers)
        assert refused.status_code == 422, (body, refused.text)
    closes = await client.patch(
        path, json={"enrollment_closes_at": "2030-01-01T00:00:00Z"}, headers=admin.headers
    )
    crossing = await client.patch(
        path, json={"enrollment_opens_at": "2031-01-01T00:00:00+02:00"}, headers=admin.headers
    )
    cleared = await client.patch(
        path, json={"seat_limit": None, "access_days": None}, headers=admin.headers
    )

    assert closes.json()["enrollment_closes_at"].startswith("2030-01-01T00:00:00")
    assert crossing.status_code == 422
    assert crossing.json()["type"].endswith("/enrollment-window-invalid")
    assert (cleared.json()["seat_limit"], cleared.json()["access_days"]) == (None, None)
