"""A write refused by a foreign or unique key lost a race to a concurrent command: 409, not 500."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from lectern.platform.problems import install_problem_handlers


class _DriverError(Exception):
    def __init__(self, sqlstate: str, text: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


def _app_refused_by(sqlstate: str, text: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/write")
    async def write() -> None:
        raise IntegrityError("INSERT …", {}, _DriverError(sqlstate, text))

    return app


async def _answer(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/write")


@pytest.mark.parametrize(
    ("sqlstate", "text", "detail"),
    [
        ("23505", "duplicate key value violates unique constraint", "took this first"),
        ("", "UNIQUE constraint failed: users.email_key", "took this first"),
        ("23503", "violates foreign key constraint", "removed or moved meanwhile"),
        ("", "FOREIGN KEY constraint failed", "removed or moved meanwhile"),
    ],
)
async def test_a_write_that_lost_a_race_to_a_key_is_a_conflict(
    sqlstate: str, text: str, detail: str
) -> None:
    response = await _answer(_app_refused_by(sqlstate, text))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/changed-meanwhile")
    assert detail in response.json()["detail"]


async def test_any_other_refused_constraint_is_still_a_server_error() -> None:
    response = await _answer(_app_refused_by("23514", "violates check constraint"))
    assert response.status_code == 500
