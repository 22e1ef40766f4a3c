"""What no column can hold is refused with a 422 problem on both databases, and nothing is
written: NUL (PostgreSQL refuses it in text, SQLite would store it) and lone surrogates in any
string, integers beyond their column, NaN and infinities."""

from typing import Any

import httpx
import pytest

from lectern.payments.providers import TEST_CHECKOUT_PATH
from lectern.platform.db import Database
from tests.factories import PASSWORD, Person, World
from tests.platform.test_errors import assert_problem
from tests.rows import row_counts

NUL = "\x00"


async def _admin_and_student(world: World) -> tuple[Person, Person]:
    admin = await world.admin()
    return admin, await world.student(admin.institution_slug)


async def _assert_refused_writing_nothing(
    client: httpx.AsyncClient, db: Database, requests: list[tuple[str, str, Any]], **options: Any
) -> None:
    before = await row_counts(db)
    for method, path, body in requests:
        response = await client.request(method, path, json=body, **options)
        assert_problem(response, 422)
        assert response.json()["type"].endswith("/invalid"), response.text
    assert await row_counts(db) == before


async def test_nul_in_sign_in_and_registration_is_422_and_stores_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, student = await _admin_and_student(world)
    registration = {
        "institution": admin.institution_slug,
        "email": "new@example.test",
        "password": PASSWORD,
        "full_name": "New Learner",
    }
    requests: list[tuple[str, str, Any]] = [
        ("POST", path, {"email": student.email + NUL, "password": PASSWORD})
        for path in ("/api/v1/auth/login", "/api/v1/auth/tokens")
    ]
    requests += [
        ("POST", path, {"email": student.email, "password": PASSWORD + NUL})
        for path in ("/api/v1/auth/login", "/api/v1/auth/tokens")
    ]
    requests += [
        ("POST", "/api/v1/auth/register", {**registration, field: registration[field] + NUL})
        for field in registration
    ]

    await _assert_refused_writing_nothing(client, db, requests)


async def test_nul_in_any_course_field_is_422_and_stores_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    question = {"prompt": "Two and two?", "choices": ["3", "4"], "answer": 1}
    lesson = {"title": "Quiz", "kind": "quiz", "questions": [question]}
    bad_question = {**question, "choices": ["3", f"4{NUL}"]}
    requests: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/courses", {"title": f"A{NUL}"}),
        ("POST", "/api/v1/courses", {"title": "A", "description": f"{NUL}"}),
        ("POST", "/api/v1/courses", {"title": "A", "chapters": [{"title": f"C{NUL}"}]}),
        (
            "POST",
            "/api/v1/courses",
            {"title": "A", "chapters": [{"title": "C", "lessons": [{**lesson, "title": NUL}]}]},
        ),
        (
            "POST",
            "/api/v1/courses",
            {
                "title": "A",
                "chapters": [{"title": "C", "lessons": [{**lesson, "questions": [bad_question]}]}],
            },
        ),
        ("POST", "/api/v1/courses", {"title": "A", "qbank": [{**question, "topic": NUL}]}),
        ("PATCH", f"/api/v1/courses/{course['id']}", {"description": f"x{NUL}y"}),
        ("POST", f"/api/v1/courses/{course['id']}/chapters", {"title": f"C{NUL}"}),
        ("POST", f"/api/v1/courses/{course['id']}/qbank", {"questions": [bad_question]}),
    ]

    await _assert_refused_writing_nothing(client, db, requests, headers=admin.headers)


async def test_a_lone_surrogate_in_a_json_string_is_422(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    before = await row_counts(db)

    response = await client.post(
        "/api/v1/courses",
        content=b'{"title": "A\\ud800"}',
        headers={**admin.headers, "content-type": "application/json"},
    )

    assert_problem(response, 422)
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/certificates/abc%00def",
        "/api/v1/certificates/abc%00def.pdf",
        f"{TEST_CHECKOUT_PATH}cs_test%00x",
        "/verify/abc%00",
        "/api/v1/courses?status=published%00",
        "/api/v1/courses?st%00atus=published",
        "/signup?institution=a%00",
    ],
)
async def test_nul_in_a_path_or_query_is_422_before_any_route(
    world: World, client: httpx.AsyncClient, path: str
) -> None:
    admin = await world.admin()

    assert_problem(await client.get(path, headers=admin.headers), 422)
    if path.startswith(TEST_CHECKOUT_PATH):
        assert_problem(await client.post(path.replace("?", "/pay?") + "/pay"), 422)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer abc\x00def"},
        {"Cookie": "lectern_session=abc\x00def"},
        {"X-CSRF-Token": "\x00"},
        {"Last-Event-ID": "1\x00"},
    ],
    ids=["bearer", "cookie", "csrf", "last-event-id"],
)
async def test_nul_in_a_header_or_cookie_is_422(
    client: httpx.AsyncClient, db: Database, headers: dict[str, str]
) -> None:
    assert_problem(await client.get("/api/v1/me", headers=headers), 422)


@pytest.mark.parametrize(
    "path", ["/api/v1/admin/students", "/api/v1/admin/access-requests", "/api/v1/admin/payments"]
)
@pytest.mark.parametrize("parameter", ["offset", "limit"])
async def test_a_page_beyond_a_64_bit_integer_is_422(
    world: World, client: httpx.AsyncClient, path: str, parameter: str
) -> None:
    admin = await world.admin()

    for value in (2**63, 2**31):
        response = await client.get(path, params={parameter: value}, headers=admin.headers)
        assert_problem(response, 422)


async def test_an_event_id_beyond_a_64_bit_integer_is_422_not_a_broken_stream(
    world: World, client: httpx.AsyncClient
) -> None:
    student = (await _admin_and_student(world))[1]

    by_query = await client.get(
        "/api/v1/stream", params={"last_event_id": 2**63}, headers=student.headers
    )
    by_header = await client.get(
        "/api/v1/stream", headers={**student.headers, "Last-Event-ID": str(2**63)}
    )

    assert_problem(by_query, 422)
    assert_problem(by_header, 422)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_a_non_finite_number_in_a_json_body_is_422(
    world: World, client: httpx.AsyncClient, db: Database, number: str
) -> None:
    admin, student = await _admin_and_student(world)
    course = await world.course(admin, access="open")
    before = await row_counts(db)
    bodies = [
        ("/api/v1/courses", f'{{"title": "A", "price_cents": {number}}}', admin),
        ("/api/v1/courses", f'{{"title": "A", "qbank_pass_mark": {number}}}', admin),
        (
            "/api/v1/courses",
            '{"title": "A", "chapters": [{"title": "C", "lessons": [{"title": "L", '
            f'"kind": "reading", "weight": {number}}}]}}]}}',
            admin,
        ),
        (f"/api/v1/courses/{course['id']}/qbank-tests", f'{{"count": {number}}}', student),
    ]

    for path, body, person in bodies:
        response = await client.post(
            path, content=body, headers={**person.headers, "content-type": "application/json"}
        )
        assert_problem(response, 422)
    assert await row_counts(db) == before
