"""One Transaction per transaction (lectern.platform.transaction): what it accumulates starts
empty with each transaction; work registered for after its commit runs once it has committed,
and never if it rolls back; the writers registered for before every commit run in it."""

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.platform import transaction as transactions
from lectern.platform.db import Database
from lectern.platform.transaction import before_every_commit, transaction_of


class Refused(Exception):
    pass


@pytest.fixture
def marks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A writer registered for before every commit (for this test only) that inserts, in the
    committing transaction, one row per pair lock the transaction holds."""
    written: list[str] = []

    async def writer(session: AsyncSession) -> None:
        for user_id, course_id in sorted(transaction_of(session).pair_locks):
            await session.execute(
                text("INSERT INTO hook_marks (mark) VALUES (:m)"), {"m": f"{user_id}:{course_id}"}
            )
            written.append(f"{user_id}:{course_id}")

    monkeypatch.setattr(transactions, "_writers", list(transactions._writers))
    before_every_commit(writer)
    return written


@pytest.fixture
async def hook_marks(db: Database) -> Any:
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE hook_marks (mark VARCHAR(20))"))
    yield
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE hook_marks"))


async def _stored(db: Database) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(text("SELECT mark FROM hook_marks ORDER BY mark")))


async def test_after_commit_work_runs_once_the_command_committed(db: Database) -> None:
    seen: list[int] = []

    async def command(session: AsyncSession) -> None:
        transaction_of(session).after_commit(lambda: seen.append(1))
        await session.execute(text("SELECT 1"))
        assert seen == []  # not before the commit

    await db.run(command)

    assert seen == [1]


async def test_after_commit_work_of_a_command_that_fails_is_dropped(db: Database) -> None:
    seen: list[int] = []

    async def refused(session: AsyncSession) -> None:
        transaction_of(session).after_commit(lambda: seen.append(1))
        raise Refused

    with pytest.raises(Refused):
        await db.run(refused)
    await db.run(lambda s: s.execute(text("SELECT 1")))

    assert seen == []


async def test_a_session_committed_by_hand_runs_its_after_commit_work_and_drops_a_rolled_back_ones(
    db: Database,
) -> None:
    seen: list[str] = []
    async with db.session() as session:
        transaction_of(session).after_commit(lambda: seen.append("rolled back"))
        await session.execute(text("SELECT 1"))
        await session.rollback()
        transaction_of(session).after_commit(lambda: seen.append("committed"))
        await session.execute(text("SELECT 1"))
        assert seen == []
        await session.commit()

    assert seen == ["committed"]


async def test_before_commit_writers_write_in_the_commands_transaction(
    db: Database, hook_marks: None, marks: list[str]
) -> None:
    async def command(session: AsyncSession) -> None:
        transaction_of(session).pair_locks.add((1, 2))

    async def refused(session: AsyncSession) -> None:
        transaction_of(session).pair_locks.add((3, 4))
        raise Refused

    await db.run(command)
    with pytest.raises(Refused):
        await db.run(refused)

    assert await _stored(db) == ["1:2"]
    assert marks == ["1:2"]


async def test_before_commit_writers_run_when_a_session_is_committed_by_hand(
    db: Database, hook_marks: None, marks: list[str]
) -> None:
    async with db.session() as session:
        transaction_of(session).pair_locks.add((5, 6))
        await session.commit()

    assert await _stored(db) == ["5:6"]


async def test_each_transaction_of_a_session_starts_with_nothing_held(db: Database) -> None:
    async with db.session() as session:
        await session.execute(text("SELECT 1"))
        first = transaction_of(session)
        first.pair_locks.add((1, 2))
        first.events.append({"type": "x"})
        await session.rollback()
        await session.execute(text("SELECT 1"))
        second = transaction_of(session)

    assert second is not first
    assert (second.pair_locks, second.events, second.xid) == (set(), [], None)


async def test_each_command_starts_with_nothing_held(db: Database) -> None:
    held: list[set[tuple[int, int]]] = []

    async def command(session: AsyncSession) -> None:
        transaction = transaction_of(session)
        held.append(set(transaction.pair_locks))
        transaction.pair_locks.add((1, 2))

    await db.run(command)
    await db.run(command)

    assert held == [set(), set()]


def test_a_session_not_made_by_the_database_has_no_transaction() -> None:
    with pytest.raises(TypeError):
        transaction_of(AsyncSession())
