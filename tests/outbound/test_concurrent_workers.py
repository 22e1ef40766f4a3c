"""PostgreSQL: workers of several processes at once never send one destination anything at the
same time, so no batch goes out twice, and each destination still gets its events in order."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.rules import LoggedEvent
from lectern.outbound import service
from lectern.outbound.kinds import Accepted, OutboundKind
from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.factories import World
from tests.outbound.test_delivery import events_of
from tests.rows import last_event_id

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def second_process_db(settings: Settings) -> AsyncIterator[Database]:
    other = Database(settings)
    yield other
    await other.dispose()


async def test_two_workers_never_deliver_one_batch_twice(
    world: World, db: Database, second_process_db: Database, settings: Settings
) -> None:
    admin = await world.admin()
    start = await last_event_id(db)
    destinations = [
        (
            await db.run(
                lambda s: service.create_destination(
                    s, kind="race", institution_id=admin.institution_id
                )
            )
        ).id
        for _ in range(4)
    ]
    for n in range(12):
        await world.course(admin, title=f"Course {n}")
    expected = await events_of(db, admin.institution_id, after=start)

    received: dict[int, list[int]] = {d: [] for d in destinations}
    in_flight: Counter[int] = Counter()
    most_at_once: Counter[int] = Counter()
    senders: Counter[str] = Counter()

    def kind(worker_name: str) -> OutboundKind[int]:
        async def load(_session: AsyncSession, destination_id: int) -> int:
            return destination_id

        async def send(destination_id: int, events: list[LoggedEvent]) -> Accepted:
            in_flight[destination_id] += 1
            most_at_once[destination_id] = max(
                most_at_once[destination_id], in_flight[destination_id]
            )
            await asyncio.sleep(0.03)
            received[destination_id] += [event.id for event in events]
            senders[worker_name] += 1
            in_flight[destination_id] -= 1
            return Accepted(200)

        return OutboundKind(name="race", load=load, send=send, batch_size=2)

    first = OutboundWorker(db, settings, kind("first"))
    second = OutboundWorker(second_process_db, settings, kind("second"))
    await asyncio.gather(first.deliver_due(), second.deliver_due())

    assert all(received[d] == expected for d in destinations), received
    assert set(most_at_once.values()) == {1}
    assert senders["first"] > 0
    assert senders["second"] > 0
