"""The OpenAPI document declares what each operation can answer: its 4xx problems, as
`application/problem+json` of the Problem schema, and the 200 of a command repeated."""

from typing import Any

import httpx
import pytest

from lectern.app import create_app
from tests.factories import World

DOCUMENT = create_app().openapi()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]
PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}


def _label(operation: tuple[str, str, Any]) -> str:
    return f"{operation[0]} {operation[1]}"


def _statuses(method: str, path: str) -> set[str]:
    return set(DOCUMENT["paths"][path][method.lower()]["responses"])


def _takes_input(operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


def test_every_operation_has_been_looked_at() -> None:
    assert len(OPERATIONS) > 50


@pytest.mark.parametrize("operation", OPERATIONS, ids=_label)
def test_every_4xx_answer_is_a_problem_document(operation: tuple[str, str, Any]) -> None:
    _, _, described = operation
    problems = {s: r for s, r in described["responses"].items() if s.startswith("4")}

    assert all(r["content"] == {"application/problem+json": PROBLEM} for r in problems.values())
    if _takes_input(described):
        assert {"404", "422"} <= problems.keys()
    if "requestBody" in described:
        assert {"400", "413"} <= problems.keys()


def test_fastapis_validation_error_shape_is_not_in_the_document() -> None:
    schemas = DOCUMENT["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "errors" in schemas["Problem"]["properties"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/courses"),
        ("POST", "/api/v1/courses"),
        ("GET", "/api/v1/admin/students"),
        ("POST", "/api/v1/admin/access-requests/{request_id}/approve"),
        ("POST", "/api/v1/auth/logout"),
    ],
)
def test_an_operation_that_finds_its_caller_declares_401_and_403(method: str, path: str) -> None:
    assert {"401", "403"} <= _statuses(method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/auth/register"),
        ("GET", "/api/v1/certificates/{code}"),
        ("GET", "/healthz"),
    ],
)
def test_a_public_operation_declares_no_403(method: str, path: str) -> None:
    assert "403" not in _statuses(method, path)


def test_sign_in_declares_wrong_passwords_and_throttling() -> None:
    for path in ("/api/v1/auth/login", "/api/v1/auth/tokens"):
        assert {"401", "429"} <= _statuses("POST", path)


def test_the_webhook_declares_a_refused_signature() -> None:
    assert "400" in _statuses("POST", "/api/v1/payments/webhooks/stripe")


def test_a_list_filtered_by_an_id_declares_404() -> None:
    assert "404" in _statuses("GET", "/api/v1/admin/access-requests")
    assert "404" in _statuses("GET", "/api/v1/admin/payments")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/courses/{course_id}/enroll",
        "/api/v1/courses/{course_id}/access-requests",
        "/api/v1/admin/enrollments",
        "/api/v1/courses/{course_id}/checkout",
    ],
)
def test_a_command_that_answers_201_declares_the_200_of_its_repetition(path: str) -> None:
    responses = DOCUMENT["paths"][path]["post"]["responses"]

    assert responses["200"]["content"] == responses["201"]["content"]


async def test_a_repeated_self_enrollment_answers_the_declared_200(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="open")
    path = f"/api/v1/courses/{course['id']}/enroll"

    first = await client.post(path, headers=student.headers)
    again = await client.post(path, headers=student.headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert "200" in _statuses("POST", "/api/v1/courses/{course_id}/enroll")
