"""Webhooks delivered to a real receiver: signed, in order, nothing lost through its failures,
paused with an e-mail to the admins when it keeps failing, replayed, other institutions' events
never sent; and exactly once across a sender killed between the receiver's answer and its
commit."""

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import httpx

from lectern.models.base import utcnow
from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.webhooks.sending import Endpoint
from tests.factories import Person, World
from tests.rows import last_event_id, rows
from tests.webhooks.conftest import COURSE_TYPES, Receiver, Subscribed, subscribe

ROOT = Path(__file__).resolve().parents[2]


async def course_events(db: Database, institution_id: int, after: int) -> list[int]:
    found = await rows(
        db,
        "SELECT id FROM events WHERE institution_id = :i AND id > :a"
        " AND type IN ('course.created', 'course.updated') ORDER BY id",
        i=institution_id,
        a=after,
    )
    return [row["id"] for row in found]


async def make_courses(world: World, admin: Person, n: int) -> None:
    for k in range(n):
        course = await world.course(admin, title=f"Course {k}")
        r = await world.client.patch(
            f"/api/v1/courses/{course['id']}",
            json={"title": f"Course {k} renamed"},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text


async def test_every_event_arrives_signed_in_order_through_the_receivers_failures(
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
    subscribed: Subscribed,
) -> None:
    admin, start = subscribed.admin, subscribed.start
    await make_courses(world, admin, 3)
    expected = await course_events(db, admin.institution_id, start)
    assert len(expected) == 6

    receiver.refusals = 2  # down for the first two attempts
    now = utcnow()
    for minute in range(6):
        await worker.deliver_due(now + timedelta(minutes=minute))

    assert receiver.processed_ids() == expected
    assert receiver.unverified == 0
    assert [m.id for m in receiver.arrived[:3]] == [f"evt_{expected[0]}"] * 3
    first = receiver.processed[0]
    assert first.type == "course.created"
    assert first.data["title"] == "Course 0"
    assert receiver.processed[1].data["title"] == "Course 0 renamed"
    metrics = (await client.get("/metrics")).text
    for name in ("events_sent_total", "attempts_failed_total", "lag_events", "lag_seconds"):
        assert f'lectern_outbound_{name}{{kind="webhook"}}' in metrics


async def test_a_burst_goes_many_events_an_attempt_and_a_refusal_keeps_what_was_taken(
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
    subscribed: Subscribed,
) -> None:
    admin, start, hook = subscribed.admin, subscribed.start, subscribed.hook
    await make_courses(world, admin, 20)
    expected = await course_events(db, admin.institution_id, start)
    assert len(expected) == 40

    receiver.refuse_after = 7  # takes seven of the first attempt's events, refuses the eighth
    # once: the attempt ends with the seven, and the next starts at the eighth
    now = utcnow()
    for minute in range(4):
        await worker.deliver_due(now + timedelta(minutes=minute))

    assert receiver.processed_ids() == expected
    assert receiver.duplicates == []  # what was taken before the refusal is not sent again
    r = await client.get(
        f"/api/v1/admin/webhooks/{hook['id']}/deliveries?limit=100", headers=admin.headers
    )
    attempts = list(reversed(r.json()))
    assert [(a["status"], a["first_event_id"], a["last_event_id"]) for a in attempts] == [
        ("sent", expected[0], expected[6]),
        ("sent", expected[7], expected[7 + 24]),
        ("sent", expected[7 + 25], expected[-1]),
    ]
    assert [m.id for m in receiver.arrived].count(f"evt_{expected[7]}") == 2


async def test_the_delivery_record_shows_each_attempt_and_its_failures(
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
) -> None:
    admin = await world.admin()
    hook = await subscribe(client, admin, receiver, ["course.created"])
    await world.course(admin)
    receiver.refusals = 1
    await worker.deliver_due()
    await worker.deliver_due(utcnow() + timedelta(minutes=1))

    r = await client.get(f"/api/v1/admin/webhooks/{hook['id']}/deliveries", headers=admin.headers)
    assert r.status_code == 200
    sent, failed = r.json()
    assert (failed["status"], failed["http_status"], failed["attempt"]) == ("failed", 503, 1)
    assert failed["error"].startswith("503 Service Unavailable: down for maintenance")
    assert (sent["status"], sent["http_status"], sent["attempt"]) == ("sent", 200, 2)
    assert sent["first_event_id"] == sent["last_event_id"] == failed["first_event_id"]
    assert sent["response_ms"] >= 0
    r = await client.get(
        f"/api/v1/admin/webhooks/{hook['id']}/deliveries?failed=true", headers=admin.headers
    )
    assert [d["id"] for d in r.json()] == [failed["id"]]


async def test_another_institutions_events_never_reach_a_subscription(
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
) -> None:
    north = await world.admin("Northwind Academy")
    south = await world.admin("Southgate College")
    start = await last_event_id(db)
    await subscribe(client, north, receiver, COURSE_TYPES)
    await make_courses(world, south, 2)
    await make_courses(world, north, 1)
    await make_courses(world, south, 2)
    await worker.deliver_due()
    assert receiver.processed_ids() == await course_events(db, north.institution_id, start)
    south_ids = set(await course_events(db, south.institution_id, start))
    assert not south_ids & set(receiver.processed_ids())


async def test_a_subscription_that_keeps_failing_is_paused_and_its_admins_emailed(
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
) -> None:
    admin = await world.admin()
    other_admin = await world.admin()
    start = await last_event_id(db)
    hook = await subscribe(client, admin, receiver, ["course.created"], description="CRM sync")
    await world.course(admin)
    receiver.refusals = 100
    now = utcnow()
    for minute in range(5):
        await worker.deliver_due(now + timedelta(minutes=minute))
    assert len(receiver.arrived) == 3  # then paused: no fourth attempt

    r = await client.get(f"/api/v1/admin/webhooks/{hook['id']}", headers=admin.headers)
    paused = r.json()
    assert (paused["status"], paused["consecutive_failures"]) == ("paused", 3)
    assert paused["last_error"].startswith("503")
    mail = await rows(
        db,
        "SELECT to_address, subject, text_body FROM mail_outbox WHERE kind = 'integration_paused'",
    )
    assert sorted(m["to_address"] for m in mail) == sorted([admin.email, other_admin.email])
    assert mail[0]["subject"] == "Webhook paused: CRM sync"
    assert "3 failed attempts" in mail[0]["text_body"]
    assert "/admin/webhooks" in mail[0]["text_body"]

    await client.post(f"/api/v1/admin/webhooks/{hook['id']}/rotate-secret", headers=admin.headers)
    page = (await client.get("/admin/webhooks", headers=admin.headers)).text
    assert '<span class="badge bad">paused</span>' in page
    assert "webhook-resume" in page
    assert "the previous secret also signs until" in page
    assert page.count('class="delivery-failed"') == 3
    assert "503 Service Unavailable" in page

    receiver.refusals = 0
    r = await client.post(f"/api/v1/admin/webhooks/{hook['id']}/resume", headers=admin.headers)
    assert (r.status_code, r.json()["status"]) == (200, "active")
    await worker.deliver_due(now + timedelta(hours=1))
    assert receiver.processed_ids() == await course_events(db, admin.institution_id, start)


async def test_replay_sends_again_from_an_event_with_the_same_webhook_ids(
    world: World,
    db: Database,
    client: httpx.AsyncClient,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
    subscribed: Subscribed,
) -> None:
    admin, start, hook = subscribed.admin, subscribed.start, subscribed.hook
    await make_courses(world, admin, 2)
    await worker.deliver_due()
    expected = await course_events(db, admin.institution_id, start)
    assert receiver.processed_ids() == expected

    r = await client.post(
        f"/api/v1/admin/webhooks/{hook['id']}/replay",
        json={"from_event_id": expected[1]},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["delivered_through"] == expected[1] - 1
    await worker.deliver_due()
    assert [int(m.id.removeprefix("evt_")) for m in receiver.arrived] == expected + expected[1:]
    assert receiver.duplicates == [f"evt_{i}" for i in expected[1:]]


async def test_a_sender_killed_before_its_commit_sends_again_and_the_receiver_dedupes(
    world: World,
    db: Database,
    receiver: Receiver,
    worker: OutboundWorker[Endpoint],
    subscribed: Subscribed,
    settings: Settings,
) -> None:
    admin, start = subscribed.admin, subscribed.start
    await make_courses(world, admin, 2)
    expected = await course_events(db, admin.institution_id, start)

    # Another process sends the first event; the receiver processes it and, before it answers,
    # that process is killed: it never commits that the event was delivered.
    receiver.hold.set()
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.webhooks.sender",
        settings.database_url,
        cwd=ROOT,
        env={**os.environ, "LECTERN_WEBHOOKS_ALLOW_LOOPBACK_HTTP": "true"},
    )
    try:
        assert await asyncio.to_thread(receiver.held.wait, 60), "the sender sent nothing"
    finally:
        sender.send_signal(signal.SIGKILL)
        await sender.wait()
    receiver.hold.clear()
    receiver.release.set()
    assert receiver.processed_ids() == expected[:1]

    # This process takes over: the first event goes again, with the same webhook-id.
    for _ in range(100):
        await worker.deliver_due()
        if receiver.processed_ids() == expected:
            break
        await asyncio.sleep(0.1)  # PostgreSQL ends the killed sender's transaction
    assert receiver.processed_ids() == expected
    assert receiver.duplicates == [f"evt_{expected[0]}"]
    assert [m.id for m in receiver.arrived] == [f"evt_{i}" for i in [expected[0], *expected]]
