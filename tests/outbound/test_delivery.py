"""The delivery kernel against a real database: cursors over the log, institutions apart,
order kept through failures, backoff, pausing, resuming and replaying, and its record."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models.base import utcnow
from lectern.models.outbound import DeliveryStatus
from lectern.outbound import records, service
from lectern.outbound.worker import OutboundWorker
from lectern.platform.db import Database
from lectern.platform.errors import Invalid
from tests.factories import Person, World
from tests.outbound.conftest import Inbox, Inboxes
from tests.rows import last_event_id, rows


async def destination(db: Database, inboxes: Inboxes, person: Person, **inbox: object) -> int:
    made = await db.run(
        lambda s: service.create_destination(s, kind="test", institution_id=person.institution_id)
    )
    inboxes.by_destination[made.id] = Inbox(**inbox)  # type: ignore[arg-type]
    return made.id


async def events_of(db: Database, institution_id: int, after: int = 0) -> list[int]:
    found = await rows(
        db,
        "SELECT id FROM events WHERE institution_id = :i AND id > :a ORDER BY id",
        i=institution_id,
        a=after,
    )
    return [row["id"] for row in found]


async def state(db: Database, destination_id: int) -> dict[str, object]:
    [row] = await rows(db, "SELECT * FROM outbound_destinations WHERE id = :i", i=destination_id)
    return row


async def deliveries(db: Database, destination_id: int) -> list[dict[str, object]]:
    return await rows(
        db,
        "SELECT * FROM outbound_deliveries WHERE destination_id = :i ORDER BY id",
        i=destination_id,
    )


async def test_a_destination_gets_its_institutions_new_events_in_order_and_no_others(
    world: World, db: Database, inboxes: Inboxes, worker: OutboundWorker[Inbox]
) -> None:
    north = await world.admin("Northwind Academy")
    south = await world.admin("Southgate College")
    await world.course(north, title="Before the subscription")
    start = await last_event_id(db)
    mine = await destination(db, inboxes, north)
    theirs = await destination(db, inboxes, south)
    for n in range(4):
        await world.course(north, title=f"North {n}")
        await world.course(south, title=f"South {n}")

    await worker.deliver_due()

    north_events = await events_of(db, north.institution_id, after=start)
    south_events = await events_of(db, south.institution_id, after=start)
    assert len(north_events) >= 4
    assert inboxes.by_destination[mine].received == north_events
    assert inboxes.by_destination[theirs].received == south_events
    head = await last_event_id(db)
    assert (await state(db, mine))["delivered_through"] == head
    # One delivery row per batch of at most three events, each naming its first and last.
    sent = await deliveries(db, mine)
    assert [(d["status"], d["attempt"]) for d in sent] == [("sent", 1)] * len(sent)
    assert [d["first_event_id"] for d in sent] == north_events[::3]
    assert sum(int(d["events"]) for d in sent) == len(north_events)  # type: ignore[call-overload]
    assert all(d["http_status"] == 202 for d in sent)


async def test_a_failing_batch_blocks_the_ones_after_it_until_it_goes_through(
    world: World, db: Database, inboxes: Inboxes, worker: OutboundWorker[Inbox]
) -> None:
    admin = await world.admin()
    start = await last_event_id(db)
    target = await destination(db, inboxes, admin, refusals=2)
    for n in range(5):
        await world.course(admin, title=f"Course {n}")
    expected = await events_of(db, admin.institution_id, after=start)

    [attempt] = await worker.deliver_due()
    assert (attempt.outcome, attempt.http_status, attempt.through) == ("failed", 503, start)
    after_one = await state(db, target)
    assert after_one["consecutive_failures"] == 1
    # Not due again until its backoff has passed (10 s with jitter 0 is 5 s).
    assert await worker.deliver_due() == []
    later = utcnow() + timedelta(seconds=6)
    [again] = await worker.deliver_due(later)
    assert (again.outcome, again.event_ids) == ("failed", attempt.event_ids)
    assert inboxes.by_destination[target].received == []

    attempts = await worker.deliver_due(utcnow() + timedelta(seconds=60))
    assert [a.outcome for a in attempts][:1] == ["sent"]
    assert inboxes.by_destination[target].received == expected
    recorded = await deliveries(db, target)
    assert [(d["status"], d["attempt"]) for d in recorded[:3]] == [
        ("failed", 1),
        ("failed", 2),
        ("sent", 3),
    ]
    assert recorded[0]["error"] == "503 Service Unavailable"
    assert recorded[0]["first_event_id"] == recorded[2]["first_event_id"] == expected[0]
    assert (await state(db, target))["consecutive_failures"] == 0


async def test_a_destination_that_keeps_failing_is_paused_and_told_then_resumed(
    world: World, db: Database, inboxes: Inboxes, worker: OutboundWorker[Inbox]
) -> None:
    admin = await world.admin()
    start = await last_event_id(db)
    target = await destination(db, inboxes, admin, refusals=3)
    await world.course(admin)
    expected = await events_of(db, admin.institution_id, after=start)
    now = utcnow()
    for n in range(3):
        await worker.deliver_due(now + timedelta(minutes=2 * n))
    paused = await state(db, target)
    assert (paused["status"], paused["consecutive_failures"]) == ("paused", 3)
    [told] = inboxes.by_destination[target].paused
    assert (told.destination_id, told.institution_id, told.failures) == (
        target,
        admin.institution_id,
        3,
    )
    # Paused: however long one waits, nothing is attempted.
    assert await worker.deliver_due(now + timedelta(days=1)) == []

    await db.run(lambda s: service.resume(s, target))
    await worker.deliver_due()
    assert inboxes.by_destination[target].received == expected
    assert (await state(db, target))["status"] == "active"


async def test_replay_moves_the_cursor_back_and_sends_again_in_order(
    world: World, db: Database, inboxes: Inboxes, worker: OutboundWorker[Inbox]
) -> None:
    admin = await world.admin()
    start = await last_event_id(db)
    target = await destination(db, inboxes, admin)
    for n in range(3):
        await world.course(admin, title=f"Course {n}")
    await worker.deliver_due()
    first_time = list(inboxes.by_destination[target].received)
    assert first_time == await events_of(db, admin.institution_id, after=start)

    await db.run(lambda s: service.replay_from(s, target, first_time[1]))
    await worker.deliver_due()
    assert inboxes.by_destination[target].received == first_time + first_time[1:]


async def test_a_replay_never_moves_the_cursor_forward(
    world: World, db: Database, inboxes: Inboxes
) -> None:
    admin = await world.admin()
    target = await destination(db, inboxes, admin)
    await world.course(admin)
    head = await last_event_id(db)
    with pytest.raises(Invalid):
        await db.run(lambda s: service.replay_from(s, target, head + 1))
    assert (await state(db, target))["delivered_through"] < head


async def test_events_a_destination_does_not_take_are_passed_and_the_cursor_reaches_the_head(
    world: World, db: Database, inboxes: Inboxes, worker: OutboundWorker[Inbox]
) -> None:
    admin = await world.admin()
    start = await last_event_id(db)
    target = await destination(db, inboxes, admin, types={"course.published"})
    draft = await world.course(admin, status="draft")
    await world.client.patch(
        f"/api/v1/courses/{draft['id']}", json={"status": "published"}, headers=admin.headers
    )
    await world.course(admin, status="draft")
    [published] = await rows(
        db, "SELECT id FROM events WHERE type = 'course.published' AND id > :s", s=start
    )
    await worker.deliver_due()
    assert inboxes.by_destination[target].received == [published["id"]]
    assert (await state(db, target))["delivered_through"] == await last_event_id(db)
    # A scan that finds nothing to take moves the cursor without a delivery row.
    assert len(await deliveries(db, target)) == 1


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"kind": "test"}) or 0.0


async def test_sent_failed_paused_and_lag_are_counted_for_metrics(
    world: World, db: Database, inboxes: Inboxes, worker: OutboundWorker[Inbox]
) -> None:
    admin = await world.admin()
    sent_before = _sample("lectern_outbound_events_sent_total")
    failed_before = _sample("lectern_outbound_attempts_failed_total")
    target = await destination(db, inboxes, admin, refusals=1)
    await world.course(admin)
    await worker.deliver_due()
    assert _sample("lectern_outbound_lag_events") > 0
    assert _sample("lectern_outbound_attempts_failed_total") == failed_before + 1
    await worker.deliver_due(utcnow() + timedelta(minutes=5))
    received = len(inboxes.by_destination[target].received)
    assert received > 0
    assert _sample("lectern_outbound_events_sent_total") == sent_before + received
    assert _sample("lectern_outbound_lag_events") == 0
    assert _sample("lectern_outbound_lag_seconds") == 0


async def test_the_record_of_deliveries_keeps_the_newest_rows(
    world: World, db: Database, inboxes: Inboxes
) -> None:
    admin = await world.admin()
    target = await destination(db, inboxes, admin)
    other = await destination(db, inboxes, admin)

    async def write(session: AsyncSession, destination_id: int, n: int) -> None:
        await records.write_delivery(
            session,
            destination_id,
            status=DeliveryStatus.SENT,
            http_status=200,
            attempt=1,
            response_ms=3,
            error=None,
            event_ids=(n, n),
        )

    async def fill(session: AsyncSession) -> None:
        for n in range(1, 13):
            await write(session, target, n)
            await write(session, other, n)

    await db.run(fill)
    await db.run(lambda s: records.forget_old_deliveries(s, target, keep=5))
    kept = [d["first_event_id"] for d in await deliveries(db, target)]
    assert kept == [8, 9, 10, 11, 12]
    assert len(await deliveries(db, other)) == 12
