"""Schemathesis walks the whole OpenAPI document as an admin, a student and anonymously, on each
database, and finds no server error, no undocumented status, no answer off its schema and no
content type other than the documented one. The cases are seeded: every run sends the same."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lectern.app import create_app
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.conftest import LiveServer
from tests.factories import PASSWORD, World
from tests.learning.course_fixtures import classroom
from tests.rows import empty_tables

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# The event stream answers for as long as the client listens; tests/events cover it.
STREAMING = "/api/v1/stream"
CONFIG: dict[str, Any] = {
    "seed": 20240611,
    "generation": {
        "max-examples": 6,
        "deterministic": True,
        # What once reached the database as a server error, offered often beside the rest.
        "dictionaries": {
            "string": {"dictionary": "unstorable-text", "probability": 0.25},
            "integer": {"dictionary": "beyond-columns", "probability": 0.25},
        },
    },
    "dictionaries": {
        "unstorable-text": {"values": ["\x00", "a\x00b", "x\x00@example.test"]},
        "beyond-columns": {"values": [2**31, 2**63 - 1, 2**63, -(2**63) - 1]},
    },
    "phases": {
        "examples": {"enabled": True},
        # Unexpected methods all meet the router's one 405; the caller's methods are enough.
        "coverage": {"enabled": True, "unexpected-methods": []},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}
schema = schemathesis.openapi.from_dict(
    create_app().openapi(), config=schemathesis.Config.from_dict(CONFIG)
).exclude(path=STREAMING)


@dataclass
class Caller:
    """Whose turn it is, on which server; set by the `caller` fixture."""

    name: str = "anonymous"
    base_url: str = ""
    email: str = ""
    user_id: int = 0
    token: str = ""

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def sign_in(self) -> None:
        """A token from POST /api/v1/auth/tokens: at first, and again when an operation has
        revoked the caller's own (the operations after it would test nothing but a 401)."""
        if not self.email:
            return
        response = httpx.post(
            f"{self.base_url}/api/v1/auth/tokens", json={"email": self.email, "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        self.token = response.json()["token"]


CALLER = Caller()


def _deletes_the_caller(case: schemathesis.Case, caller: Caller) -> bool:
    named = str((case.path_parameters or {}).get("user_id"))
    return (
        case.method == "DELETE"
        and case.path == "/api/v1/admin/users/{user_id}"
        and named.isdigit()
        and int(named) == caller.user_id
    )


@pytest.fixture(scope="module", params=["admin", "student", "anonymous"])
async def caller(
    request: pytest.FixtureRequest, settings: Settings, live_server: LiveServer
) -> AsyncIterator[Caller]:
    """A school to find things in (a course of every lesson kind with its question bank, an
    enrolled learner with a Q-bank test, a pending request, a paid course with a checkout),
    and whose turn it is. Made once for all operations, so that they find each other's rows;
    emptied afterwards, as every test leaves the tables."""
    database = Database(settings)
    await empty_tables(database)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        world = World(database, client)
        room = await classroom(world, client)
        approval = await world.course(room.admin, access="approval")
        paid = await world.course(room.admin, access="paid", price_cents=1500)
        for path, body in (
            (f"/api/v1/courses/{approval['id']}/access-requests", None),
            (f"/api/v1/courses/{paid['id']}/checkout", None),
            (f"/api/v1/courses/{room.course['id']}/qbank-tests", {"count": 3}),
        ):
            response = await client.post(path, json=body, headers=room.learner.headers)
            assert response.status_code == 201, response.text
    people = {"admin": room.admin, "student": room.learner}
    person = people.get(request.param)
    CALLER.name, CALLER.base_url = request.param, live_server.url
    CALLER.email, CALLER.user_id = (person.email, person.id) if person else ("", 0)
    CALLER.token = ""
    CALLER.sign_in()
    try:
        yield CALLER
    finally:
        await empty_tables(database)
        await database.dispose()


# Past schemathesis's default of 10 s: on a loaded two-core CI machine one SQLite request in
# a run has been seen to wait that long; a real hang still fails.
TIMEOUT_S = 60


@schema.parametrize()
def test_the_api_answers_every_generated_request_as_documented(
    case: schemathesis.Case, caller: Caller
) -> None:
    if _deletes_the_caller(case, caller):
        return  # every operation after it would test nothing but a 401
    response = case.call(base_url=caller.base_url, headers=caller.headers(), timeout=TIMEOUT_S)
    if response.status_code == 401 and caller.token:
        caller.sign_in()
        response = case.call(base_url=caller.base_url, headers=caller.headers(), timeout=TIMEOUT_S)
    case.validate_response(response, checks=CHECKS, headers=caller.headers())
