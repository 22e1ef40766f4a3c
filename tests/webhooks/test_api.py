"""The webhooks admin API: what it refuses (4xx, nothing written), what another institution's
admins and students get, rotating the secret, testing the connection, and the admin page."""

from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import row_counts
from tests.webhooks.conftest import Receiver, new_subscription, subscribe

UNKNOWN = 999_999


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://example.com/hooks", "event_types": ["course.created"]},
        {"url": "ftp://example.com/hooks", "event_types": ["course.created"]},
        {"url": "example.com/hooks", "event_types": ["course.created"]},
        {"url": "https://user:pw@example.com/hooks", "event_types": ["course.created"]},
        {"url": "https://example.com/hooks#x", "event_types": ["course.created"]},
        {"url": "https://example.com:99999/", "event_types": ["course.created"]},
        {"url": "http://127.0.0.2:8000/", "event_types": ["course.created"]},
        {"url": "http://localhost:8000/", "event_types": ["course.created"]},
        {"url": "https://example.com/hooks", "event_types": []},
        {"url": "https://example.com/hooks", "event_types": ["course.exploded"]},
        {"url": "https://example.com/hooks", "event_types": "course.created"},
        {"url": "https://example.com/hooks", "event_types": ["course.created"], "secret": "x"},
        {"url": "https://example.com/" + "a" * 2000, "event_types": ["course.created"]},
        {"url": "https://example.com/hooks", "event_types": ["course.created"], "description": 7},
        {"event_types": ["course.created"]},
    ],
)
async def test_a_bad_subscription_is_refused_with_a_problem_and_nothing_written(
    world: World, db: Database, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    admin = await world.admin()
    before = await row_counts(db)
    r = await client.post("/api/v1/admin/webhooks", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before


async def test_a_subscription_is_made_with_a_secret_and_starts_at_the_head(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    await world.course(admin)
    r = await client.post(
        "/api/v1/admin/webhooks",
        json={
            "url": "https://hooks.example.edu/lectern",
            "event_types": ["course.created", "course.created", "user.registered"],
            "description": "CRM",
        },
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_")
    assert Webhook(made["secret"])  # a secret the Standard Webhooks library reads
    assert made["event_types"] == ["course.created", "user.registered"]
    assert (made["status"], made["consecutive_failures"]) == ("active", 0)
    assert made["delivered_through"] > 0
    listed = (await client.get("/api/v1/admin/webhooks", headers=admin.headers)).json()
    assert [(s["id"], s["url"]) for s in listed] == [(made["id"], made["url"])]
    assert "secret" not in listed[0]


async def test_changes_are_checked_like_new_subscriptions(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    made = await new_subscription(client, admin, "https://a.example.edu/h")
    path = f"/api/v1/admin/webhooks/{made['id']}"
    before = await row_counts(db)
    for body in ({"url": "http://a.example.edu/h"}, {"event_types": ["nope"]}, {"id": 3}):
        r = await client.patch(path, json=body, headers=admin.headers)
        assert r.status_code == 422, (body, r.text)
    assert await row_counts(db) == before
    r = await client.patch(
        path, json={"event_types": ["course.updated"], "description": "x"}, headers=admin.headers
    )
    assert (r.status_code, r.json()["event_types"], r.json()["description"]) == (
        200,
        ["course.updated"],
        "x",
    )


async def test_a_replay_ahead_of_the_cursor_or_from_nothing_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    made = await new_subscription(client, admin, "https://a.example.edu/h")
    path = f"/api/v1/admin/webhooks/{made['id']}/replay"
    for body in (
        {"from_event_id": made["delivered_through"] + 2},
        {"from_event_id": 0},
        {"from_event_id": 2**63},
        {"from_event_id": "1"},
        {},
    ):
        r = await client.post(path, json=body, headers=admin.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def _theirs(world: World, client: httpx.AsyncClient) -> tuple[Person, int]:
    elsewhere = await world.admin("Southgate College")
    made = await new_subscription(client, elsewhere, "https://south.example.edu/h")
    return elsewhere, int(made["id"])


CALLS = [
    ("GET", "/api/v1/admin/webhooks/{id}", None),
    ("PATCH", "/api/v1/admin/webhooks/{id}", {"description": "mine"}),
    ("DELETE", "/api/v1/admin/webhooks/{id}", None),
    ("POST", "/api/v1/admin/webhooks/{id}/rotate-secret", None),
    ("POST", "/api/v1/admin/webhooks/{id}/test", None),
    ("GET", "/api/v1/admin/webhooks/{id}/deliveries", None),
    ("POST", "/api/v1/admin/webhooks/{id}/replay", {"from_event_id": 1}),
    ("POST", "/api/v1/admin/webhooks/{id}/resume", None),
]


async def test_another_institutions_subscription_answers_like_one_that_does_not_exist(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    admin = await world.admin("Northwind Academy")
    elsewhere, theirs = await _theirs(world, client)
    before = await row_counts(db)
    for method, path, body in CALLS:
        foreign = await client.request(
            method, path.format(id=theirs), json=body, headers=admin.headers
        )
        unknown = await client.request(
            method, path.format(id=UNKNOWN), json=body, headers=admin.headers
        )
        assert foreign.status_code == 404, (method, path, foreign.text)
        assert (foreign.status_code, foreign.json()) == (unknown.status_code, unknown.json())
    assert await row_counts(db) == before
    assert (await client.get("/api/v1/admin/webhooks", headers=admin.headers)).json() == []
    still = await client.get(f"/api/v1/admin/webhooks/{theirs}", headers=elsewhere.headers)
    assert still.json()["description"] == ""


async def test_students_are_refused_every_webhooks_endpoint(
    world: World, client: httpx.AsyncClient
) -> None:
    elsewhere, theirs = await _theirs(world, client)
    student = await world.student(elsewhere.institution_slug)
    for method, path, body in [
        *CALLS,
        ("GET", "/api/v1/admin/webhooks", None),
        ("POST", "/api/v1/admin/webhooks", {"url": "https://x.example/", "event_types": ["a"]}),
        ("GET", "/api/v1/admin/webhooks/event-types", None),
    ]:
        r = await client.request(method, path.format(id=theirs), json=body, headers=student.headers)
        assert r.status_code == 403, (method, path, r.text)


async def test_after_a_rotation_both_secrets_sign_and_the_connection_test_verifies(
    world: World, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin = await world.admin()
    hook = await subscribe(client, admin, receiver, ["course.created"])
    r = await client.post(f"/api/v1/admin/webhooks/{hook['id']}/test", headers=admin.headers)
    answer = r.json()
    assert (r.status_code, answer["ok"], answer["http_status"]) == (200, True, 200), answer
    [tried] = receiver.processed
    assert (tried.type, tried.data["subscription_id"]) == ("webhook.test", hook["id"])
    assert tried.id.startswith("test_")

    rotated = (
        await client.post(
            f"/api/v1/admin/webhooks/{hook['id']}/rotate-secret", headers=admin.headers
        )
    ).json()
    assert rotated["secret"] != hook["secret"]
    assert rotated["previous_secret_until"] is not None
    for secret in (hook["secret"], rotated["secret"]):
        receiver.secrets = [secret]  # a receiver that knows only this one still verifies
        r = await client.post(f"/api/v1/admin/webhooks/{hook['id']}/test", headers=admin.headers)
        assert r.json()["ok"], r.json()
    assert len(receiver.arrived[-1].signature.split(" ")) == 2
    assert receiver.unverified == 0

    receiver.refusals = 1
    r = await client.post(f"/api/v1/admin/webhooks/{hook['id']}/test", headers=admin.headers)
    assert (r.json()["ok"], r.json()["http_status"]) == (False, 503)
    assert r.json()["error"].startswith("503")


async def test_a_connection_test_to_nobody_says_so(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    made = await new_subscription(client, admin, "http://127.0.0.1:9/")
    answer = (
        await client.post(f"/api/v1/admin/webhooks/{made['id']}/test", headers=admin.headers)
    ).json()
    assert (answer["ok"], answer["http_status"]) == (False, None)
    assert "Connect" in answer["error"]


async def test_deleting_a_subscription_takes_its_deliveries_with_it(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    before = await row_counts(db)
    made = await new_subscription(client, admin, "https://a.example.edu/h")
    r = await client.delete(f"/api/v1/admin/webhooks/{made['id']}", headers=admin.headers)
    assert r.status_code == 204
    assert await row_counts(db) == before


async def test_the_admin_page_shows_subscriptions_and_their_deliveries(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    await new_subscription(client, admin, "https://crm.example.edu/h", description="CRM sync")
    page = await client.get("/admin/webhooks", headers=admin.headers)
    assert page.status_code == 200
    assert "CRM sync" in page.text
    assert "https://crm.example.edu/h" in page.text
    assert 'href="/admin/webhooks"' in page.text
    assert "destinations.js" in page.text
    assert "webhooks.js" in page.text
