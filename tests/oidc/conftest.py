"""An identity provider served by the suite, and a browser that signs in through it."""

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lectern.models import AuthSession, Enrollment, OidcIdentity, StudentProfile, User
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.oidc.identity_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    IdentityProvider,
    ServedIdentityProvider,
)

DOMAIN = "northwind.edu"


@pytest.fixture(scope="session")
def served_idp() -> Iterator[IdentityProvider]:
    with ServedIdentityProvider() as provider:
        yield provider


@pytest.fixture
def idp(served_idp: IdentityProvider) -> Iterator[IdentityProvider]:
    served_idp.reset()
    yield served_idp
    served_idp.reset()


async def add_provider(
    world: World, admin: Person, idp: IdentityProvider, **fields: Any
) -> dict[str, Any]:
    body = {
        "name": "Northwind account",
        "issuer": idp.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "email_domain": DOMAIN,
        **fields,
    }
    response = await world.client.post(
        "/api/v1/admin/oidc/providers", json=body, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    provider: dict[str, Any] = response.json()
    return provider


@dataclass
class Browser:
    """A browser of its own (its own cookies) against the app, which follows the redirects to the
    identity provider over real HTTP."""

    app: httpx.AsyncClient

    async def go_to_provider(self, provider_id: int, next_path: str = "") -> str:
        """Starts a sign-in; returns the provider's authorize URL it was sent to."""
        query = f"?next={next_path}" if next_path else ""
        response = await self.app.get(f"/oidc/{provider_id}/start{query}")
        assert response.status_code == 303, response.text
        return response.headers["location"]

    async def approve(self, authorize_url: str) -> str:
        """The provider approves; returns the callback path it sends the browser back to."""
        async with httpx.AsyncClient() as http:
            response = await http.get(authorize_url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith("http://testserver/oidc/callback?"), location
        return location.removeprefix("http://testserver")

    async def come_back(self, callback: str) -> httpx.Response:
        return await self.app.get(callback, headers={"Accept": "application/json"})

    async def sign_in(self, provider_id: int, next_path: str = "") -> httpx.Response:
        return await self.come_back(
            await self.approve(await self.go_to_provider(provider_id, next_path))
        )

    async def me(self) -> httpx.Response:
        return await self.app.get("/api/v1/me")


@pytest.fixture
async def visitor(app: Any) -> AsyncIterator[Browser]:
    async with opened_browser(app) as opened:
        yield opened


@contextlib.asynccontextmanager
async def opened_browser(app: Any) -> AsyncIterator[Browser]:
    """Another browser, with cookies of its own."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield Browser(http)


@dataclass(frozen=True)
class Counts:
    users: int
    profiles: int
    identities: int
    sessions: int
    enrollments: int


async def counts(db: Database) -> Counts:
    async with db.session() as session:
        values = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (User, StudentProfile, OidcIdentity, AuthSession, Enrollment)
        ]
    return Counts(*[int(value or 0) for value in values])


def metric_sample(metrics: str, name: str) -> float:
    """A sample's value in the Prometheus text of /metrics; 0 before it is first counted."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0
