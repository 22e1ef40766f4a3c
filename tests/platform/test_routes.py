"""Routes are matched as FastAPI matches them, with a cheap first look at the path's start."""

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from lectern.app import create_app
from lectern.platform.routes import LiteralPrefixRoute, add_routes, api_router


def _routes(app: FastAPI) -> list[LiteralPrefixRoute]:
    return [route for route in app.routes if isinstance(route, APIRoute)]  # type: ignore[misc]


def _concrete(path_format: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path_format)


def _scope(path: str, method: str = "GET", root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "path": path, "method": method, "root_path": root_path}


def test_every_api_route_of_the_app_looks_at_its_literal_prefix_first() -> None:
    routes = _routes(create_app())

    assert routes
    assert all(isinstance(route, LiteralPrefixRoute) for route in routes)
    approve = next(r for r in routes if r.path.endswith("/{request_id}/approve"))
    assert approve.literal_prefix == "/api/v1/admin/access-requests/"


def test_a_router_not_made_by_api_router_is_refused() -> None:
    plain = APIRouter(prefix="/api/v1")

    @plain.get("/plain")
    async def endpoint() -> None:
        pass

    with pytest.raises(TypeError, match="api_router"):
        add_routes(FastAPI(), plain)


def test_every_route_answers_every_path_as_the_full_match_does() -> None:
    routes = _routes(create_app())
    paths = {
        _concrete(route.path_format, value) for route in routes for value in ("7", "x", "7/8", "")
    }
    paths |= {"/", "/api", "/api/v1", "/api/v1/", "/healthz/", "/API/v1/me", "/api/v1/me/"}
    compared = 0
    for route in routes:
        for path in paths:
            for method in ("GET", "POST", "DELETE"):
                for root_path in ("", "/lectern"):
                    full = root_path + path
                    scope = _scope(full, method, root_path)
                    expected = APIRoute.matches(route, dict(scope))
                    assert route.matches(dict(scope)) == expected, (route.path, full, method)
                    compared += 1
    assert compared > 10_000
    # Each route's own paths are among them: the comparison covered matches, not only misses.
    assert all(
        route.matches(_scope(_concrete(route.path_format, "7"), method))[0] == Match.FULL
        for route in routes
        for method in route.methods
    )


async def test_a_request_reaches_its_route_through_the_app() -> None:
    router = api_router(prefix="/api/v1")

    @router.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @router.get("/items/{item_id}/parts")
    async def parts(item_id: int) -> dict[str, str]:
        return {"parts": f"of {item_id}"}

    app = FastAPI()
    add_routes(app, router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/api/v1/items/3")).json() == {"id": 3}
        assert (await client.get("/api/v1/items/3/parts")).json() == {"parts": "of 3"}
        assert (await client.post("/api/v1/items/3")).status_code == 405
        assert (await client.get("/api/v1/other")).status_code == 404
