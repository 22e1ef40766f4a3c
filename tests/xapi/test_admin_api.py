"""The admins' learning record stores: bad input is refused and changes nothing, the secret is
never shown, another institution's store is not found, the connection test asks the LRS, a store
that keeps failing is paused and its admins told, and delivery is counted at /metrics."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lectern.models import OutboxMessage, XapiDestination
from lectern.models.base import utcnow
from lectern.models.enums import Role
from lectern.models.mail import MailKind
from lectern.outbound.worker import OutboundWorker
from lectern.platform.db import Database
from lectern.xapi.delivery import Lrs
from tests.conftest import free_port
from tests.factories import PASSWORD, Person, World
from tests.learning.course_fixtures import classroom, watched
from tests.xapi.conftest import ACCOUNTS, NorthLrs, Ralph, add_lrs

DESTINATIONS = "/api/v1/admin/xapi/destinations"
GOOD = {
    "name": "Analytics",
    "endpoint": "https://lrs.example.edu/xAPI",
    "key": "lectern",
    "secret": "s3cret-value-never-shown",
}


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(XapiDestination)) or 0)


@pytest.mark.parametrize(
    "body",
    [
        {**GOOD, "endpoint": "http://lrs.example.edu/xAPI"},
        {**GOOD, "endpoint": "ftp://lrs.example.edu/xAPI"},
        {**GOOD, "endpoint": "https://user:pw@lrs.example.edu/xAPI"},
        {**GOOD, "endpoint": "https://lrs.example.edu/xAPI?x=1"},
        {**GOOD, "endpoint": "not a url"},
        {**GOOD, "endpoint": "https://lrs.example.edu:70000/xAPI"},
        {**GOOD, "endpoint": ""},
        {**GOOD, "endpoint": "https://lrs.example.edu/" + "x" * 2000},
        {**GOOD, "key": ""},
        {**GOOD, "secret": ""},
        {**GOOD, "secret": "s" * 501},
        {**GOOD, "name": "n" * 201},
        {**GOOD, "enabled": "yes"},
        {**GOOD, "extra": 1},
        {key: value for key, value in GOOD.items() if key != "secret"},
        {**GOOD, "key": "a\u0000b"},
    ],
)
async def test_bad_configuration_is_refused_with_a_problem_and_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database, body: dict[str, Any]
) -> None:
    admin = await world.admin()
    r = await client.post(DESTINATIONS, json=body, headers=admin.headers)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await _count(db) == 0


async def test_bad_changes_and_replays_are_refused_and_change_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    created = (await client.post(DESTINATIONS, json=GOOD, headers=admin.headers)).json()
    url = f"{DESTINATIONS}/{created['id']}"
    for body in (
        {"endpoint": "http://lrs.example.edu/xAPI"},
        {"secret": None},
        {"enabled": None},
        {"key": ""},
        {"unknown": True},
    ):
        r = await client.patch(url, json=body, headers=admin.headers)
        assert r.status_code in (400, 422), (body, r.text)
    for body in (
        {"from_event_id": 0},
        {"from_event_id": created["delivered_through"] + 2},
        {"from_event_id": 2**63},
        {},
    ):
        r = await client.post(url + "/replay", json=body, headers=admin.headers)
        assert r.status_code in (400, 422), (body, r.text)
    assert (await client.get(url, headers=admin.headers)).json() == created
    r = await client.get(url + "/deliveries?limit=0", headers=admin.headers)
    assert r.status_code == 422


async def test_the_secret_is_never_shown_and_kept_unless_a_new_one_is_given(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    r = await client.post(DESTINATIONS, json=GOOD, headers=admin.headers)
    assert r.status_code == 201
    created = r.json()
    url = f"{DESTINATIONS}/{created['id']}"
    answers = [
        r,
        await client.get(DESTINATIONS, headers=admin.headers),
        await client.get(url, headers=admin.headers),
        await client.patch(url, json={"name": "Renamed"}, headers=admin.headers),
        await client.get("/admin/xapi", headers=admin.headers),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert GOOD["secret"] not in answer.text
    for shown in (created, answers[2].json(), *answers[1].json()):
        assert "secret" not in shown
    async with db.session() as session:
        assert (await session.get_one(XapiDestination, created["id"])).secret == GOOD["secret"]
    await client.patch(url, json={"secret": "a-new-one"}, headers=admin.headers)
    async with db.session() as session:
        assert (await session.get_one(XapiDestination, created["id"])).secret == "a-new-one"


async def test_another_institutions_store_is_not_found_and_only_admins_reach_them(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    created = (await client.post(DESTINATIONS, json=GOOD, headers=admin.headers)).json()
    url = f"{DESTINATIONS}/{created['id']}"
    stranger = await world.admin("Southgate College")
    calls = [
        ("GET", url, None),
        ("PATCH", url, {"name": "Mine now"}),
        ("POST", url + "/test", None),
        ("GET", url + "/deliveries", None),
        ("POST", url + "/replay", {"from_event_id": 1}),
        ("POST", url + "/resume", None),
        ("DELETE", url, None),
    ]
    for method, path, body in calls:
        r = await client.request(method, path, json=body, headers=stranger.headers)
        assert r.status_code == 404, (method, path, r.text)
    assert (await client.get(DESTINATIONS, headers=stranger.headers)).json() == []
    learner = await world.student(admin.institution_slug)
    instructor = await world.admin(role=Role.INSTRUCTOR)
    for person in (learner, instructor):
        r = await client.get(DESTINATIONS, headers=person.headers)
        assert r.status_code == 403
        r = await client.post(DESTINATIONS, json=GOOD, headers=person.headers)
        assert r.status_code == 403
    assert (await client.get(url, headers=admin.headers)).json()["name"] == GOOD["name"]
    r = await client.delete(url, headers=admin.headers)
    assert r.status_code == 204
    assert (await client.get(url, headers=admin.headers)).status_code == 404


async def _check(client: httpx.AsyncClient, admin: Person, destination_id: int) -> Any:
    r = await client.post(f"{DESTINATIONS}/{destination_id}/test", headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_connection_test_asks_the_lrs_whether_it_takes_the_credentials(
    world: World, client: httpx.AsyncClient, lrs: Ralph
) -> None:
    admin = await world.admin()
    good = await add_lrs(client, admin, lrs, "north")
    wrong = await add_lrs(client, admin, lrs, "north", secret="not-the-secret")
    nowhere = await add_lrs(client, admin, lrs, "north", endpoint=f"http://127.0.0.1:{free_port()}")

    answer = await _check(client, admin, good["id"])
    assert answer["ok"] is True
    assert answer["statements_status"] == 200
    # Ralph has no About resource; the credentials are what matter.
    assert answer["about_status"] == 404
    refused = await _check(client, admin, wrong["id"])
    assert (refused["ok"], refused["statements_status"]) == (False, 401)
    assert "refused the key and secret" in refused["detail"]
    unreachable = await _check(client, admin, nowhere["id"])
    assert unreachable["ok"] is False
    assert "did not answer" in unreachable["detail"]


async def test_a_store_that_keeps_failing_is_paused_its_admins_told_and_resumed(
    world: World,
    client: httpx.AsyncClient,
    db: Database,
    lrs: Ralph,
    sender: OutboundWorker[Lrs],
) -> None:
    room = await classroom(world, client)
    destination = await add_lrs(
        client, room.admin, lrs, "north", secret=ACCOUNTS["north"].secret + "-wrong"
    )
    await room.post(client, watched(room.video, 0, 30))
    later = utcnow()
    for _ in range(3):
        later += timedelta(hours=1)
        [attempt] = await sender.deliver_due(later)
        assert (attempt.outcome, attempt.http_status) == ("failed", 401)
    assert attempt.paused
    url = f"{DESTINATIONS}/{destination['id']}"
    state = (await client.get(url, headers=room.admin.headers)).json()
    assert (state["status"], state["enabled"], state["consecutive_failures"]) == ("paused", True, 3)
    async with db.session() as session:
        told = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == MailKind.INTEGRATION_PAUSED)
            )
        ).all()
    assert [message.user_id for message in told] == [room.admin.id]
    assert "Learning record store" in told[0].subject
    assert await sender.deliver_due(later + timedelta(days=1)) == []
    assert lrs.stored("north") == []

    r = await client.patch(
        url, json={"secret": ACCOUNTS["north"].secret}, headers=room.admin.headers
    )
    assert r.json()["status"] == "paused"
    r = await client.post(url + "/resume", headers=room.admin.headers)
    assert (r.json()["status"], r.json()["consecutive_failures"]) == ("active", 0)
    [attempt] = await sender.deliver_due()
    assert attempt.outcome == "sent"
    assert len(lrs.stored("north")) == 3


async def test_the_admin_page_lists_the_stores_with_their_deliveries(
    client: httpx.AsyncClient, north: NorthLrs, sender: OutboundWorker[Lrs]
) -> None:
    room = north.room
    await room.post(client, watched(room.video, 0, 30))
    await sender.deliver_due()
    login = await client.post(
        "/api/v1/auth/login",
        json={"email": room.admin.email, "password": PASSWORD},
    )
    assert login.status_code == 200, login.text
    page = await client.get("/admin/xapi")
    assert page.status_code == 200
    assert 'href="/admin/xapi"' in page.text
    assert "north LRS" in page.text
    assert north.lrs.url in page.text
    assert "sent" in page.text
    assert "destinations.js" in page.text
    assert "xapi.js" in page.text
    assert "xapi-replay" in page.text


async def test_sent_statements_and_failures_are_counted_at_metrics(
    client: httpx.AsyncClient, north: NorthLrs, sender: OutboundWorker[Lrs]
) -> None:
    room = north.room
    before = (await client.get("/metrics")).text
    await room.post(client, watched(room.video, 0, 30))
    await sender.deliver_due()
    after = (await client.get("/metrics")).text

    def value(text: str, name: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith((name + " ", name + "{"))]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    assert (
        value(after, "lectern_xapi_statements_sent_total")
        - value(before, "lectern_xapi_statements_sent_total")
        == 3
    )
    sent = 'lectern_outbound_events_sent_total{kind="xapi"}'
    assert value(after, sent.split("{")[0]) > value(before, sent.split("{")[0])
    assert 'lectern_outbound_lag_events{kind="xapi"} 0.0' in after
