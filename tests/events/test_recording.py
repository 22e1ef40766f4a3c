"""A command's events are written with its transaction: in the order recorded, or not at all."""

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.inflight import NOTIFY_CHANNEL
from lectern.events.service import record_event
from lectern.events.types import AuditRepaired, LessonProgressed, ProgressUpdated
from lectern.models import Event
from lectern.platform.db import Database
from tests.events.conftest import record_through
from tests.factories import Person, World


def record(session: AsyncSession, person: Person, kinds: list[str]) -> None:
    for kind in kinds:
        record_event(
            session,
            AuditRepaired(invariant=kind, row={}),
            institution_id=person.institution_id,
            user_id=person.id,
        )


async def logged_types(db: Database, person: Person) -> list[str]:
    """The kinds `record` wrote about `person`, in log order."""
    async with db.session() as session:
        rows = await session.scalars(
            select(Event.payload).where(Event.user_id == person.id).order_by(Event.id)
        )
        return [payload["invariant"] for payload in rows]


async def test_a_commands_events_are_written_at_commit_in_the_order_recorded(
    world: World, db: Database
) -> None:
    admin = await world.admin()
    kinds = ["first.thing", "second.thing", "third.thing"]

    async def command(session: AsyncSession) -> list[str]:
        record(session, admin, kinds)
        # Recorded, not yet written: the transaction itself does not see them before commit.
        visible = await session.scalars(select(Event.id).where(Event.user_id == admin.id))
        return list(visible)

    assert await db.run(command) == []
    assert await logged_types(db, admin) == kinds


async def test_a_command_that_fails_after_recording_writes_no_event(
    world: World, db: Database
) -> None:
    admin = await world.admin()

    async def failing(session: AsyncSession) -> None:
        record(session, admin, ["doomed.thing"])
        raise RuntimeError("the command fails after recording")

    with pytest.raises(RuntimeError):
        await db.run(failing)
    await db.run(lambda session: _record_async(session, admin, ["later.thing"]))
    assert await logged_types(db, admin) == ["later.thing"]


async def _record_async(session: AsyncSession, person: Person, kinds: list[str]) -> None:
    record(session, person, kinds)


@pytest.mark.postgres_only
async def test_a_transaction_with_several_events_sends_one_notify(
    world: World, db: Database, database_url: str
) -> None:
    admin = await world.admin()
    received: list[str] = []
    dsn = make_url(database_url).set(drivername="postgresql")
    listener = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        await listener.add_listener(NOTIFY_CHANNEL, lambda *args: received.append(args[3]))
        await db.run(lambda session: _record_async(session, admin, ["a.b", "c.d", "e.f"]))
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # time enough for any second notification to arrive
    finally:
        await listener.close()
    async with db.session() as session:
        ids: list[Any] = list(
            await session.scalars(select(Event.id).where(Event.user_id == admin.id))
        )
    assert len(received) == 1
    # The payload is the id the transaction's events follow.
    assert int(received[0]) < min(ids)


@pytest.mark.parametrize("rows", [1, 12], ids=["prepared", "batched"])  # see _PREPARED_ROWS
async def test_a_payload_reads_back_as_it_was_recorded(
    world: World, db: Database, rows: int
) -> None:
    admin = await world.admin()
    title = 'Ünïcode — 日本語 "quoted" \\ back\nline'

    def progressed(n: int) -> ProgressUpdated:
        lesson = LessonProgressed(lesson_id=2**40, watched_s=2.5, completed=True, best_score=None)
        return ProgressUpdated(
            enrollment_id=n,
            course_id=1,
            course_title=title,
            progress=12.5,
            previous=0,
            status="active",
            lessons=[lesson],
        )

    await record_through(db, admin, rows, event=progressed)
    async with db.session() as session:
        stored = await session.scalars(
            select(Event.payload).where(Event.user_id == admin.id).order_by(Event.id)
        )

        assert list(stored) == [
            {
                "enrollment_id": n,
                "course_id": 1,
                "course_title": title,
                "progress": 12.5,
                "previous": 0.0,
                "status": "active",
                "lessons": [
                    {"lesson_id": 2**40, "watched_s": 2.5, "completed": True, "best_score": None}
                ],
            }
            for n in range(rows)
        ]
