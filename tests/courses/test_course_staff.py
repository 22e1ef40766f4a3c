"""Course staff: admins assign instructors, teaching assistants and observers per course, and
the API answers each by their role in that course."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lectern.models.enums import Role
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import event_types, last_event_id, row_counts, rows


@dataclass
class Staffed:
    admin: Person
    instructor: Person
    ta: Person
    observer: Person
    outsider: Person  # an instructor of the institution, staff of no course here
    course: dict[str, Any]
    other: dict[str, Any]  # a course of the same institution nobody above is staff of


async def staffed(world: World) -> Staffed:
    admin = await world.admin()
    instructor, ta, observer, outsider = [await world.admin(role=Role.INSTRUCTOR) for _ in "1234"]
    course = await world.course(admin, access="approval")
    other = await world.course(admin, access="approval")
    for person, role in ((instructor, "instructor"), (ta, "ta"), (observer, "observer")):
        await world.make_staff(admin, course, person, role)
    return Staffed(admin, instructor, ta, observer, outsider, course, other)


async def pending_request(
    world: World, client: httpx.AsyncClient, scene: Staffed, course: dict[str, Any]
) -> int:
    student = await world.student(scene.admin.institution_slug)
    r = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    assert r.status_code == 201, r.text
    request_id: int = r.json()["id"]
    return request_id


def staff_path(course: dict[str, Any], user_id: int | None = None) -> str:
    path = f"/api/v1/admin/courses/{course['id']}/staff"
    return path if user_id is None else f"{path}/{user_id}"


async def test_admins_assign_change_list_and_remove_course_staff(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    instructor = await world.admin(role=Role.INSTRUCTOR)
    course = await world.course(admin)
    before = await last_event_id(db)
    body = {"user_id": instructor.id, "role": "ta"}

    first = await client.post(staff_path(course), json=body, headers=admin.headers)
    again = await client.post(staff_path(course), json=body, headers=admin.headers)
    changed = await client.post(
        staff_path(course), json=body | {"role": "instructor"}, headers=admin.headers
    )

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 200)
    assert first.json()["role"] == again.json()["role"] == "ta"
    assert changed.json() | {"created_at": None} == {
        "course_id": course["id"],
        "user_id": instructor.id,
        "role": "instructor",
        "full_name": instructor.full_name,
        "email": instructor.email,
        "created_at": None,
    }
    listed = await client.get(staff_path(course), headers=admin.headers)
    assert [(s["user_id"], s["role"]) for s in listed.json()] == [(instructor.id, "instructor")]
    assert await rows(db, "SELECT course_id, user_id, role FROM course_staff") == [
        {"course_id": course["id"], "user_id": instructor.id, "role": "instructor"}
    ]

    removed = await client.delete(staff_path(course, instructor.id), headers=admin.headers)
    removed_again = await client.delete(staff_path(course, instructor.id), headers=admin.headers)
    assert (removed.status_code, removed_again.status_code) == (204, 404)
    assert removed_again.headers["content-type"] == "application/problem+json"
    assert await rows(db, "SELECT * FROM course_staff") == []
    assert await event_types(db, before) == [
        "course.staff_assigned",
        "course.staff_assigned",
        "course.staff_removed",
    ]


async def test_assigning_staff_refuses_bad_input_and_non_admins_and_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    instructor = await world.admin(role=Role.INSTRUCTOR)
    student = await world.student(admin.institution_slug)
    elsewhere = await world.admin("Southwind College", role=Role.INSTRUCTOR)
    other_admin = await world.admin("Southwind College")
    course = await world.course(admin)
    foreign_course = await world.course(other_admin)
    before = await row_counts(db)

    attempts: list[tuple[str, dict[str, Any], Person, int]] = [
        (staff_path(course), {"user_id": student.id, "role": "ta"}, admin, 422),
        (staff_path(course), {"user_id": admin.id, "role": "ta"}, admin, 422),
        (staff_path(course), {"user_id": elsewhere.id, "role": "ta"}, admin, 404),
        (staff_path(course), {"user_id": 2**31 - 1, "role": "ta"}, admin, 404),
        (staff_path(foreign_course), {"user_id": instructor.id, "role": "ta"}, admin, 404),
        (staff_path({"id": 2**31 - 1}), {"user_id": instructor.id, "role": "ta"}, admin, 404),
        (staff_path(course), {"user_id": instructor.id, "role": "teacher"}, admin, 422),
        (staff_path(course), {"user_id": instructor.id}, admin, 422),
        (staff_path(course), {"user_id": "x", "role": "ta"}, admin, 422),
        (staff_path(course), {"user_id": instructor.id, "role": "ta"}, instructor, 403),
        (staff_path(course), {"user_id": instructor.id, "role": "ta"}, student, 403),
    ]
    for path, body, caller, expected in attempts:
        r = await client.post(path, json=body, headers=caller.headers)
        assert r.status_code == expected, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = await client.delete(staff_path(course, instructor.id), headers=instructor.headers)
    assert r.status_code == 403
    assert await row_counts(db) == before


# What each course role may do in its course: the status each action answers.
MATRIX: dict[str, dict[str, int]] = {
    "read the course": {"instructor": 200, "ta": 200, "observer": 200, "outsider": 404},
    "list its staff": {"instructor": 200, "ta": 200, "observer": 200, "outsider": 404},
    "see its figures": {"instructor": 200, "ta": 200, "observer": 200, "outsider": 404},
    "see its requests": {"instructor": 200, "ta": 200, "observer": 200, "outsider": 404},
    "see its bank statistics": {"instructor": 200, "ta": 200, "observer": 200, "outsider": 404},
    "approve a request": {"instructor": 200, "ta": 200, "observer": 403, "outsider": 404},
    "reject a request": {"instructor": 200, "ta": 200, "observer": 403, "outsider": 404},
    "edit the course": {"instructor": 200, "ta": 403, "observer": 403, "outsider": 404},
    "add a chapter": {"instructor": 201, "ta": 403, "observer": 403, "outsider": 404},
    "add bank questions": {"instructor": 201, "ta": 403, "observer": 403, "outsider": 404},
    "assign staff": {"instructor": 403, "ta": 403, "observer": 403, "outsider": 403},
    "delete the course": {"instructor": 403, "ta": 403, "observer": 403, "outsider": 403},
}

Action = Callable[[httpx.AsyncClient, dict[str, Any], Person, int], Awaitable[httpx.Response]]


def actions(scene: Staffed) -> dict[str, Action]:
    def get(path: str) -> Action:
        return lambda client, course, who, _: client.get(path.format(**course), headers=who.headers)

    question = {"prompt": "2 + 2?", "choices": ["3", "4"], "answer": 1, "topic": "sums"}
    return {
        "read the course": get("/api/v1/courses/{id}"),
        "list its staff": get("/api/v1/admin/courses/{id}/staff"),
        "see its figures": get("/api/v1/admin/courses/{id}/analytics"),
        "see its requests": get("/api/v1/admin/access-requests?course_id={id}"),
        "see its bank statistics": get("/api/v1/admin/courses/{id}/qbank-statistics"),
        "approve a request": lambda client, course, who, request_id: client.post(
            f"/api/v1/admin/access-requests/{request_id}/approve", headers=who.headers
        ),
        "reject a request": lambda client, course, who, request_id: client.post(
            f"/api/v1/admin/access-requests/{request_id}/reject", headers=who.headers
        ),
        "edit the course": lambda client, course, who, _: client.patch(
            f"/api/v1/courses/{course['id']}", json={"title": "Renamed"}, headers=who.headers
        ),
        "add a chapter": lambda client, course, who, _: client.post(
            f"/api/v1/courses/{course['id']}/chapters", json={"title": "More"}, headers=who.headers
        ),
        "add bank questions": lambda client, course, who, _: client.post(
            f"/api/v1/courses/{course['id']}/qbank",
            json={"questions": [question]},
            headers=who.headers,
        ),
        "assign staff": lambda client, course, who, _: client.post(
            staff_path(course),
            json={"user_id": scene.outsider.id, "role": "ta"},
            headers=who.headers,
        ),
        "delete the course": lambda client, course, who, _: client.delete(
            f"/api/v1/courses/{course['id']}", headers=who.headers
        ),
    }


@pytest.mark.parametrize("role", ["instructor", "ta", "observer", "outsider"])
async def test_each_course_role_may_do_what_it_allows_in_its_course_and_nothing_in_another(
    world: World, client: httpx.AsyncClient, db: Database, role: str
) -> None:
    scene = await staffed(world)
    who: Person = getattr(scene, role)
    for name, act in actions(scene).items():
        request_id = await pending_request(world, client, scene, scene.course)
        r = await act(client, scene.course, who, request_id)
        assert r.status_code == MATRIX[name][role], (name, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json"
    # In a course where they have no role, every one of them is a stranger.
    for name, act in actions(scene).items():
        request_id = await pending_request(world, client, scene, scene.other)
        before = await row_counts(db)
        r = await act(client, scene.other, who, request_id)
        assert r.status_code == (403 if name in ("assign staff", "delete the course") else 404), (
            name,
            r.text,
        )
        assert await row_counts(db) == before, name


async def test_a_teaching_assistant_approves_a_request_of_their_course_and_not_of_another(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await staffed(world)
    theirs = await pending_request(world, client, scene, scene.course)
    not_theirs = await pending_request(world, client, scene, scene.other)

    refused = await client.post(
        f"/api/v1/admin/access-requests/{not_theirs}/approve", headers=scene.ta.headers
    )
    unknown = await client.post(
        f"/api/v1/admin/access-requests/{2**31 - 1}/approve", headers=scene.ta.headers
    )
    approved = await client.post(
        f"/api/v1/admin/access-requests/{theirs}/approve", headers=scene.ta.headers
    )

    assert refused.status_code == unknown.status_code == 404
    assert refused.json()["detail"] == unknown.json()["detail"]
    assert approved.status_code == 200, approved.text
    assert approved.json()["enrollment"]["status"] == "active"
    assert await rows(db, "SELECT id, status, reviewer_id FROM access_requests ORDER BY id") == [
        {"id": theirs, "status": "approved", "reviewer_id": scene.ta.id},
        {"id": not_theirs, "status": "pending", "reviewer_id": None},
    ]
    queue = await client.get("/api/v1/admin/access-requests", headers=scene.ta.headers)
    assert [r["id"] for r in queue.json()] == [theirs]
    everything = await client.get("/api/v1/admin/access-requests", headers=scene.admin.headers)
    assert sorted(r["id"] for r in everything.json()) == [theirs, not_theirs]


async def test_an_observer_can_change_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await staffed(world)
    request_id = await pending_request(world, client, scene, scene.course)
    chapter = await client.post(
        f"/api/v1/courses/{scene.course['id']}/chapters",
        json={"title": "One", "lessons": [{"title": "Read", "kind": "reading"}]},
        headers=scene.admin.headers,
    )
    assert chapter.status_code == 201, chapter.text
    chapter_id = chapter.json()["id"]
    lesson_id = chapter.json()["lessons"][0]["id"]
    student = await world.student(scene.admin.institution_slug)
    before, events_before = await row_counts(db), await last_event_id(db)
    h = scene.observer.headers
    course_path = f"/api/v1/courses/{scene.course['id']}"
    seen_before = await client.get(course_path, headers=h)
    assert seen_before.status_code == 200

    attempts = [
        client.patch(course_path, json={"status": "archived"}, headers=h),
        client.post(f"{course_path}/chapters", json={"title": "Two"}, headers=h),
        client.patch(f"/api/v1/chapters/{chapter_id}", json={"title": "Uno"}, headers=h),
        client.delete(f"/api/v1/chapters/{chapter_id}", headers=h),
        client.post(
            f"/api/v1/chapters/{chapter_id}/lessons",
            json={"title": "Also", "kind": "reading"},
            headers=h,
        ),
        client.patch(f"/api/v1/lessons/{lesson_id}", json={"title": "Other"}, headers=h),
        client.delete(f"/api/v1/lessons/{lesson_id}", headers=h),
        client.post(f"/api/v1/admin/access-requests/{request_id}/approve", headers=h),
        client.post(f"/api/v1/admin/access-requests/{request_id}/reject", headers=h),
        client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": student.id, "course_id": scene.course["id"]},
            headers=h,
        ),
        client.post(
            staff_path(scene.course),
            json={"user_id": scene.observer.id, "role": "instructor"},
            headers=h,
        ),
        client.delete(staff_path(scene.course, scene.instructor.id), headers=h),
        client.delete(course_path, headers=h),
    ]
    for attempt in attempts:
        r = await attempt
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before
    assert await last_event_id(db) == events_before
    assert (await client.get(course_path, headers=h)).json() == seen_before.json()


async def test_an_instructor_sees_only_their_courses_and_becomes_instructor_of_those_they_create(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    scene = await staffed(world)
    created = await world.course(scene.outsider, status="draft")

    outsiders = await client.get("/api/v1/courses", headers=scene.outsider.headers)
    observers = await client.get("/api/v1/courses", headers=scene.observer.headers)
    admins = await client.get("/api/v1/courses", headers=scene.admin.headers)

    assert [c["id"] for c in outsiders.json()] == [created["id"]]
    assert [c["id"] for c in observers.json()] == [scene.course["id"]]
    assert {c["id"] for c in admins.json()} == {
        scene.course["id"],
        scene.other["id"],
        created["id"],
    }
    assert await rows(
        db, "SELECT user_id, role FROM course_staff WHERE course_id = :c", c=created["id"]
    ) == [{"user_id": scene.outsider.id, "role": "instructor"}]
    # The creator edits their course; the admin's own creations make no staff row.
    r = await client.patch(
        f"/api/v1/courses/{created['id']}",
        json={"status": "published"},
        headers=scene.outsider.headers,
    )
    assert r.status_code == 200, r.text
    assert (
        await rows(db, "SELECT user_id FROM course_staff WHERE course_id = :c", c=scene.other["id"])
        == []
    )


async def test_course_staff_see_the_learners_and_figures_of_their_courses_only(
    world: World, client: httpx.AsyncClient
) -> None:
    scene = await staffed(world)
    theirs = [await world.student(scene.admin.institution_slug) for _ in range(3)]
    elsewhere = await world.student(scene.admin.institution_slug)
    for student, course in [(s, scene.course) for s in theirs] + [(elsewhere, scene.other)]:
        r = await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": student.id, "course_id": course["id"]},
            headers=scene.admin.headers,
        )
        assert r.status_code == 201, r.text

    figures = await client.get("/api/v1/admin/analytics", headers=scene.ta.headers)
    students = await client.get("/api/v1/admin/students", headers=scene.ta.headers)
    detail = await client.get(f"/api/v1/admin/students/{theirs[0].id}", headers=scene.ta.headers)
    stranger = await client.get(f"/api/v1/admin/students/{elsewhere.id}", headers=scene.ta.headers)
    nobodys = await client.get("/api/v1/admin/analytics", headers=scene.outsider.headers)

    assert figures.status_code == 200, figures.text
    assert [(c["course_id"], c["active_enrollments"]) for c in figures.json()["courses"]] == [
        (scene.course["id"], 3)
    ]
    assert figures.json()["students"] == 3
    assert figures.json()["active_enrollments"] == 3
    assert sorted(s["id"] for s in students.json()) == sorted(s.id for s in theirs)
    assert [e["course_id"] for e in detail.json()["enrollments"]] == [scene.course["id"]]
    assert stranger.status_code == 404
    assert nobodys.json()["courses"] == []
    assert nobodys.json()["students"] == 0
    admins = await client.get("/api/v1/admin/analytics", headers=scene.admin.headers)
    assert admins.json()["students"] == 4


async def test_a_course_page_names_its_teachers_and_not_its_observers(
    world: World, client: httpx.AsyncClient
) -> None:
    scene = await staffed(world)
    student = await world.student(scene.admin.institution_slug)
    response = await client.get(f"/api/v1/courses/{scene.course['id']}", headers=student.headers)
    assert response.status_code == 200
    assert {(t["full_name"], t["role"]) for t in response.json()["staff"]} == {
        (scene.instructor.full_name, "instructor"),
        (scene.ta.full_name, "ta"),
    }
    other = await client.get(f"/api/v1/courses/{scene.other['id']}", headers=student.headers)
    assert other.json()["staff"] == []
