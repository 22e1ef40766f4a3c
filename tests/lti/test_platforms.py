"""Admins register, edit, test and remove their institution's platforms, and read their launches
and score sends; another institution's platforms are unknown to them."""

import httpx
import pytest

from lectern.platform.db import Database
from tests.factories import World
from tests.lti.conftest import Registered, launch, login, resource_claims
from tests.lti.platform import PlatformServer
from tests.rows import row_counts


async def test_an_admin_registers_edits_and_lists_platforms(
    client: httpx.AsyncClient, world: World, platform: PlatformServer
) -> None:
    admin = await world.admin()
    created = await client.post(
        "/api/v1/admin/lti/platforms", json=platform.registration(), headers=admin.headers
    )
    assert created.status_code == 201, created.text
    platform_id = created.json()["id"]

    edited = await client.patch(
        f"/api/v1/admin/lti/platforms/{platform_id}",
        json={"name": "Moodle", "deployment_ids": ["d-1", "d-2", "d-1"], "auth_token_url": None},
        headers=admin.headers,
    )
    nulled = await client.patch(
        f"/api/v1/admin/lti/platforms/{platform_id}", json={"issuer": None}, headers=admin.headers
    )
    listed = await client.get("/api/v1/admin/lti/platforms", headers=admin.headers)
    tool = await client.get("/api/v1/admin/lti/tool", headers=admin.headers)

    assert edited.status_code == 200, edited.text
    assert edited.json()["deployment_ids"] == ["d-1", "d-2"]
    assert edited.json()["auth_token_url"] is None
    assert edited.json()["issuer"] == platform.issuer
    assert nulled.status_code == 422
    assert [p["name"] for p in listed.json()] == ["Moodle"]
    assert tool.json() == {
        "login_url": "http://testserver/lti/login",
        "launch_url": "http://testserver/lti/launch",
        "jwks_url": "http://testserver/lti/jwks",
        "deep_linking_url": "http://testserver/lti/launch",
    }


async def test_an_issuer_and_client_id_are_registered_once_across_lectern(
    client: httpx.AsyncClient, world: World, db: Database, platform: PlatformServer
) -> None:
    admin = await world.admin()
    other = await world.admin("Southwind College")
    first = await client.post(
        "/api/v1/admin/lti/platforms", json=platform.registration(), headers=admin.headers
    )
    before = await row_counts(db)

    again = await client.post(
        "/api/v1/admin/lti/platforms", json=platform.registration(), headers=other.headers
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["type"].endswith("/lti-taken")
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    "change",
    [
        {"jwks_url": "ftp://platform.test/jwks"},
        {"jwks_url": "http://platform.test/jwks"},
        {"auth_login_url": "not a url"},
        {"deployment_ids": []},
        {"issuer": ""},
        {"client_id": "x" * 256},
        {"name": "a\x00b"},
        {"unknown": 1},
    ],
)
async def test_bad_platform_input_is_refused_with_nothing_written(
    change: dict[str, object],
    client: httpx.AsyncClient,
    world: World,
    db: Database,
    platform: PlatformServer,
) -> None:
    admin = await world.admin()
    before = await row_counts(db)

    r = await client.post(
        "/api/v1/admin/lti/platforms", json=platform.registration(**change), headers=admin.headers
    )

    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await row_counts(db) == before


async def test_another_institutions_platform_answers_as_unknown(
    client: httpx.AsyncClient, world: World, platform: PlatformServer, registered: Registered
) -> None:
    stranger = await world.admin("Southwind College")
    student = await world.student(registered.admin.institution_slug)
    path = f"/api/v1/admin/lti/platforms/{registered.platform_id}"

    answers = [
        await client.patch(path, json={"name": "Mine"}, headers=stranger.headers),
        await client.delete(path, headers=stranger.headers),
        await client.post(f"{path}/connection-test", headers=stranger.headers),
        await client.get(f"{path}/launches", headers=stranger.headers),
        await client.get(f"{path}/scores", headers=stranger.headers),
    ]
    listed = await client.get("/api/v1/admin/lti/platforms", headers=stranger.headers)
    as_student = await client.get("/api/v1/admin/lti/platforms", headers=student.headers)

    assert [a.status_code for a in answers] == [404] * 5
    assert listed.json() == []
    assert as_student.status_code == 403


async def test_the_connection_test_fetches_the_platforms_key_set(
    client: httpx.AsyncClient, world: World, platform: PlatformServer, registered: Registered
) -> None:
    path = f"/api/v1/admin/lti/platforms/{registered.platform_id}"
    reachable = await client.post(f"{path}/connection-test", headers=registered.admin.headers)
    await client.patch(
        path, json={"jwks_url": f"{platform.url}/missing"}, headers=registered.admin.headers
    )
    missing = await client.post(f"{path}/connection-test", headers=registered.admin.headers)

    assert reachable.json() == {"reachable": True, "keys": 1, "detail": "1 RSA key(s) published."}
    assert missing.json()["reachable"] is False
    assert "404" in missing.json()["detail"]


async def test_launches_and_refusals_are_listed_for_the_admin_and_on_the_page(
    client: httpx.AsyncClient, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    await launch(client, started, platform.id_token(started.nonce, aud="someone-else"))
    await launch(client, started, platform.id_token(started.nonce, **resource_claims(course_id)))

    listed = await client.get(
        f"/api/v1/admin/lti/platforms/{registered.platform_id}/launches",
        headers=registered.admin.headers,
    )
    page = await client.get("/admin/lti", headers=registered.admin.headers)

    assert [(x["outcome"], x["course_id"]) for x in listed.json()] == [
        ("accepted", course_id),
        ("refused", None),
    ]
    assert "lti-audience" in listed.json()[1]["reason"]
    assert page.status_code == 200
    assert "Test Moodle" in page.text
    assert "lti-audience" in page.text
    assert "http://testserver/lti/jwks" in page.text


async def test_removing_a_platform_keeps_its_learners(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    await launch(client, started, platform.id_token(started.nonce, **resource_claims(course_id)))
    learners = (await row_counts(db))["users"]

    r = await client.delete(
        f"/api/v1/admin/lti/platforms/{registered.platform_id}", headers=registered.admin.headers
    )

    assert r.status_code == 204
    counts = await row_counts(db)
    assert counts["lti_platforms"] == 0
    assert counts["lti_accounts"] == 0
    assert counts["users"] == learners
    assert counts["enrollments"] == 1
