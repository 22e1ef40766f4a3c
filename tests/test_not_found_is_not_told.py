"""Another institution's row answers exactly as a row that does not exist: a caller cannot learn
from the answer whether an id is in use elsewhere."""

from typing import Any

import httpx
from fastapi import FastAPI

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import row_counts
from tests.test_isolation import (
    UNKNOWN_ID,
    _ids_by_parameter,
    _institution_b,
    _uses_ids,
    operations,
    request_for,
)

UNKNOWN = 999_999


async def _answer(
    client: httpx.AsyncClient, person: Person, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    r = await client.request(method, path, json=body, headers=person.headers)
    return r.status_code, r.json()


async def test_another_institutions_rows_answer_like_unknown_ids(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin("Northwind Academy")
    student = await world.student(admin.institution_slug)
    mine = await world.course(admin)
    elsewhere = await world.admin("Southside College")
    their_student = await world.student(elsewhere.institution_slug)
    theirs = await world.course(elsewhere, access="approval")
    request = (
        await client.post(
            f"/api/v1/courses/{theirs['id']}/access-requests", headers=their_student.headers
        )
    ).json()
    enrollment = (
        await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": their_student.id, "course_id": theirs["id"]},
            headers=elsewhere.headers,
        )
    ).json()

    # (who asks, method, path with {id}, body with "{id}" where the id goes, their id)
    cases: list[tuple[Person, str, str, dict[str, Any] | None, int]] = [
        (admin, "GET", "/api/v1/courses/{id}", None, theirs["id"]),
        (admin, "PATCH", "/api/v1/courses/{id}", {"title": "Mine now"}, theirs["id"]),
        (student, "GET", "/api/v1/courses/{id}", None, theirs["id"]),
        (student, "POST", "/api/v1/courses/{id}/enroll", None, theirs["id"]),
        (student, "POST", "/api/v1/courses/{id}/access-requests", None, theirs["id"]),
        (student, "DELETE", "/api/v1/access-requests/{id}", None, request["id"]),
        (
            admin,
            "POST",
            "/api/v1/admin/enrollments",
            {"user_id": student.id, "course_id": "{id}"},
            theirs["id"],
        ),
        (
            admin,
            "POST",
            "/api/v1/admin/enrollments",
            {"user_id": "{id}", "course_id": mine["id"]},
            their_student.id,
        ),
        (admin, "DELETE", "/api/v1/admin/enrollments/{id}", None, enrollment["id"]),
        (admin, "POST", "/api/v1/admin/access-requests/{id}/approve", None, request["id"]),
        (admin, "POST", "/api/v1/admin/access-requests/{id}/reject", {}, request["id"]),
        (admin, "GET", "/api/v1/admin/students/{id}", None, their_student.id),
        (admin, "DELETE", "/api/v1/admin/users/{id}", None, their_student.id),
    ]
    for person, method, path, body, their_id in cases:

        def filled(value: int, body: dict[str, Any] | None = body) -> dict[str, Any] | None:
            return body and {k: value if v == "{id}" else v for k, v in body.items()}

        foreign = await _answer(client, person, method, path.format(id=their_id), filled(their_id))
        unknown = await _answer(client, person, method, path.format(id=UNKNOWN), filled(UNKNOWN))
        assert foreign[0] == 404, (method, path, foreign)
        assert foreign == unknown, (method, path)

    # Nothing of theirs changed.
    r = await client.get(f"/api/v1/courses/{theirs['id']}", headers=elsewhere.headers)
    assert r.json()["title"] == theirs["title"]
    requests = (
        await client.get("/api/v1/me/access-requests", headers=their_student.headers)
    ).json()
    assert [(q["id"], q["status"]) for q in requests] == [(request["id"], "approved")]


async def test_every_endpoint_answers_another_institutions_ids_as_it_answers_unknown_ones(
    world: World, client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    theirs = _ids_by_parameter(await _institution_b(world, client), app)
    unknown = {name: UNKNOWN_ID for name in theirs}
    admin = await world.admin("Alpha College")
    student = await world.student(admin.institution_slug)
    await world.course(admin, title="Alpha Course")
    spec = app.openapi()
    before = await row_counts(db)
    compared = []
    for method, path, op in operations(app):
        if not _uses_ids(method, path, op) or "{code}" in path:
            continue
        for person in (admin, student):
            answers = []
            for ids in (theirs, unknown):
                url, query, body = request_for(method, path, op, spec, ids)
                r = await client.request(
                    method, url, params=query, json=body, headers=person.headers
                )
                answers.append((r.status_code, r.json()))
            assert answers[0] == answers[1], (person.role, method, path)
            compared.append((method, path))
    assert await row_counts(db) == before
    assert ("DELETE", "/api/v1/admin/enrollments/{enrollment_id}") in compared
    assert ("POST", "/api/v1/lessons/{lesson_id}/quiz-attempts") in compared
