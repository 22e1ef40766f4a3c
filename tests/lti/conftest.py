"""The LTI tests' platform, an admin who registered it, and a course to launch into."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lectern.lti import claims as c
from lectern.lti.api import STATE_COOKIE
from tests.factories import Person, World
from tests.lti.platform import CLIENT_ID, PlatformServer, serving


@pytest.fixture
def platform() -> Iterator[PlatformServer]:
    yield from serving()


@dataclass
class Registered:
    admin: Person
    platform_id: int
    course: dict[str, Any]
    reading_id: int


async def register(
    world: World, platform: PlatformServer, institution: str = "Northwind Academy"
) -> Registered:
    admin = await world.admin(institution)
    r = await world.client.post(
        "/api/v1/admin/lti/platforms", json=platform.registration(), headers=admin.headers
    )
    assert r.status_code == 201, r.text
    course = await world.course(
        admin,
        access="approval",
        chapters=[
            {
                "title": "One",
                "lessons": [
                    {"title": "Read", "kind": "reading", "body": "x"},
                    {"title": "Read more", "kind": "reading", "body": "y"},
                ],
            }
        ],
    )
    reading_id = course["chapters"][0]["lessons"][0]["id"]
    return Registered(admin, r.json()["id"], course, reading_id)


@pytest.fixture
async def registered(world: World, platform: PlatformServer) -> Registered:
    return await register(world, platform)


@dataclass
class Login:
    state: str
    nonce: str
    set_cookie: str

    @property
    def cookie(self) -> dict[str, str]:
        """What the browser that started the login sends back with the launch."""
        return {"Cookie": f"{STATE_COOKIE}={self.state}"}


async def login(
    client: httpx.AsyncClient, platform: PlatformServer, course_id: int | None = None
) -> Login:
    """The platform starts a login; Lectern sends the browser to its auth URL."""
    r = await client.post(
        "/lti/login",
        data={
            "iss": platform.issuer,
            "login_hint": "hint-1",
            "target_link_uri": f"http://testserver/lti/courses/{course_id or 1}",
            "lti_message_hint": "message-hint",
            "client_id": CLIENT_ID,
        },
    )
    assert r.status_code == 302, r.text
    location = urlsplit(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{platform.url}/auth"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://testserver/lti/launch"
    assert query["response_mode"] == "form_post"
    assert query["login_hint"] == "hint-1"
    assert query["lti_message_hint"] == "message-hint"
    return Login(query["state"], query["nonce"], r.headers["set-cookie"])


async def launch(
    client: httpx.AsyncClient, started: Login, id_token: str, **headers: str
) -> httpx.Response:
    return await client.post(
        "/lti/launch",
        data={"id_token": id_token, "state": started.state},
        headers={**started.cookie, **headers},
    )


def resource_claims(course_id: int, line_item: str | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {
        c.TARGET_LINK_URI: f"http://testserver/lti/courses/{course_id}",
        c.CUSTOM: {c.COURSE_PARAMETER: str(course_id)},
    }
    if line_item is not None:
        extra[c.AGS_ENDPOINT] = {
            "scope": [c.AGS_SCORE_SCOPE],
            "lineitem": line_item,
        }
    return extra
