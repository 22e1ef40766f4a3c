"""Bad input of every kind gets a 4xx problem document, never a 500, and writes nothing."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from lectern.models import Base
from lectern.models.base import utcnow
from lectern.platform.db import Database
from lectern.platform.problems import install_problem_handlers
from tests.factories import Person, World
from tests.rows import row_counts

PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def assert_problem(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status


async def _scene(
    world: World, client: httpx.AsyncClient
) -> tuple[Person, Person, dict[str, Any], int]:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    r = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    return admin, student, course, int(r.json()["id"])


MALFORMED = ['{"title": ', "not json", '{"a": 1,}', "\x00"]


@pytest.mark.parametrize("raw", MALFORMED)
async def test_malformed_json_is_400(
    world: World, client: httpx.AsyncClient, db: Database, raw: str
) -> None:
    admin, _, course, request_id = await _scene(world, client)
    before = await row_counts(db)
    headers = {**admin.headers, "content-type": "application/json"}
    for method, path in (
        ("POST", "/api/v1/courses"),
        ("PATCH", f"/api/v1/courses/{course['id']}"),
        ("POST", f"/api/v1/admin/access-requests/{request_id}/approve"),
        ("POST", f"/api/v1/admin/access-requests/{request_id}/reject"),
        ("POST", "/api/v1/admin/enrollments"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/tokens"),
    ):
        r = await client.request(method, path, content=raw, headers=headers)
        assert_problem(r, 400)
        assert r.json()["type"].endswith("malformed-json")
    assert await row_counts(db) == before


async def test_wrong_types_and_extra_fields_are_422(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student, course, request_id = await _scene(world, client)
    before = await row_counts(db)
    cases: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/courses", {"title": 5}),
        ("POST", "/api/v1/courses", {"title": "T", "colour": "red"}),
        ("POST", "/api/v1/courses", {"title": "T", "price_cents": "10"}),
        ("POST", "/api/v1/courses", {"title": "T", "access": "vip"}),
        ("POST", "/api/v1/courses", {"title": "T", "price_cents": -1}),
        ("POST", "/api/v1/courses", {"title": ""}),
        (
            "POST",
            "/api/v1/courses",
            {
                "title": "T",
                "chapters": [{"title": "C", "lessons": [{"title": "L", "kind": "dance"}]}],
            },
        ),
        (
            "POST",
            "/api/v1/courses",
            {
                "title": "T",
                "chapters": [{"title": "C", "lessons": [{"title": "L", "kind": "video"}]}],
            },
        ),
        ("POST", "/api/v1/courses", [1, 2]),
        ("PATCH", f"/api/v1/courses/{course['id']}", {"title": ["x"]}),
        ("PATCH", f"/api/v1/courses/{course['id']}", {"secret": 1}),
        ("POST", f"/api/v1/admin/access-requests/{request_id}/reject", {"note": 7}),
        ("POST", f"/api/v1/admin/access-requests/{request_id}/approve", {"note": "x", "extra": 1}),
        (
            "POST",
            "/api/v1/admin/enrollments",
            {"user_id": str(student.id), "course_id": course["id"]},
        ),
        ("POST", "/api/v1/admin/enrollments", {"user_id": student.id}),
        (
            "POST",
            "/api/v1/auth/register",
            {
                "institution": admin.institution_slug,
                "email": "x",
                "password": "long enough",
                "full_name": "X",
            },
        ),
        (
            "POST",
            "/api/v1/auth/register",
            {
                "institution": admin.institution_slug,
                "email": "a@b.test",
                "password": "short",
                "full_name": "X",
            },
        ),
        ("POST", "/api/v1/auth/login", {"email": admin.email}),
    ]
    for method, path, body in cases:
        r = await client.request(method, path, json=body, headers=admin.headers)
        assert_problem(r, 422)
    for path in (
        "/api/v1/courses/abc",
        "/api/v1/admin/students/1.5",
        "/api/v1/admin/access-requests?limit=0",
    ):
        assert_problem(await client.get(path, headers=admin.headers), 422)
    assert await row_counts(db) == before


async def test_unknown_ids_are_404(world: World, client: httpx.AsyncClient, db: Database) -> None:
    admin, student, course, _ = await _scene(world, client)
    before = await row_counts(db)
    for unknown in (987654, 0, -3, 2**31, 2**63, 10**30):
        for method, path, who, body in (
            ("GET", f"/api/v1/courses/{unknown}", admin, None),
            ("PATCH", f"/api/v1/courses/{unknown}", admin, {"title": "X"}),
            ("DELETE", f"/api/v1/courses/{unknown}", admin, None),
            ("POST", f"/api/v1/courses/{unknown}/enroll", student, None),
            ("POST", f"/api/v1/courses/{unknown}/access-requests", student, None),
            ("DELETE", f"/api/v1/access-requests/{unknown}", student, None),
            ("POST", f"/api/v1/admin/access-requests/{unknown}/approve", admin, None),
            ("POST", f"/api/v1/admin/access-requests/{unknown}/reject", admin, None),
            ("DELETE", f"/api/v1/admin/enrollments/{unknown}", admin, None),
            ("GET", f"/api/v1/admin/students/{unknown}", admin, None),
            ("DELETE", f"/api/v1/admin/users/{unknown}", admin, None),
            ("POST", f"/api/v1/me/notifications/{unknown}/read", student, None),
            (
                "POST",
                "/api/v1/admin/enrollments",
                admin,
                {"user_id": unknown, "course_id": course["id"]},
            ),
            (
                "POST",
                "/api/v1/admin/enrollments",
                admin,
                {"user_id": student.id, "course_id": unknown},
            ),
            ("GET", f"/api/v1/admin/access-requests?course_id={unknown}", admin, None),
        ):
            r = await client.request(method, path, json=body, headers=who.headers)
            assert r.status_code in (404, 422), (method, path, r.status_code, r.text)
            assert_problem(r, r.status_code)
            if unknown == 987654:
                assert r.status_code == 404, (method, path, r.text)
    assert await row_counts(db) == before


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404)
    assert_problem(await client.put("/api/v1/courses"), 405)


async def test_the_openapi_document_renders(client: httpx.AsyncClient) -> None:
    """The contract is published, and the isolation matrix is enumerated from it."""
    r = await client.get("/openapi.json")
    assert r.status_code == 200, r.text
    assert "/api/v1/admin/access-requests/{request_id}/approve" in r.json()["paths"]


async def test_a_reference_lost_to_a_concurrent_command_is_409_and_writes_nothing(
    db: Database,
) -> None:
    """A foreign key that fails (here forced: a course of an institution that is gone) answers
    409 with a problem; any other integrity error stays a 500, which is a bug."""
    app = FastAPI()
    install_problem_handlers(app)
    courses = Base.metadata.tables["courses"]

    @app.post("/orphan")
    async def orphan() -> None:
        now = utcnow()
        values = {"institution_id": 2_000_000_000, "title": "Orphan", "slug": "orphan"}
        values |= {"status": "draft", "access": "open", "price_cents": 0, "currency": "usd"}
        values |= {"qbank_required": False, "qbank_pass_mark": 0.7}
        await db.run(
            lambda s: s.execute(insert(courses).values(**values, created_at=now, updated_at=now))
        )

    before = await row_counts(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert_problem(await http.post("/orphan"), 409)
    assert await row_counts(db) == before
