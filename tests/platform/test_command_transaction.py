"""Database.run: one transaction per command, committed at the edge. On PostgreSQL it is begun on
a pooled connection that the command's session is bound to, whether the command runs Prepared
statements, the ORM, or both; these tests hold that path to the same promises as a session's."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events import inflight
from lectern.events.service import record_event, write_events
from lectern.events.types import AuditRepaired
from lectern.models import Institution
from lectern.models.base import utcnow
from lectern.platform.db import Database
from lectern.platform.prepared import Prepared
from lectern.platform.transaction import transaction_of
from tests.rows import scalar

_ONE = Prepared(text("SELECT 1 AS one"))
_XACT = Prepared(text("SELECT pg_current_xact_id()::text AS xact"))
_BACKEND = Prepared(text("SELECT pg_backend_pid() AS pid"))
_SLEEP = Prepared(text("SELECT pg_sleep(30)"))
_NEW_INSTITUTION = Prepared(
    text(
        "INSERT INTO institutions (name, name_key, slug, created_at) "
        "VALUES (:name, :name, :name, CURRENT_TIMESTAMP) RETURNING id"
    )
)


class Refused(Exception):
    pass


@pytest.fixture
async def single(db: Database) -> AsyncIterator[Database]:
    """A Database whose commands share one pooled connection: what one command leaves on it,
    the next one finds."""
    database = Database(db.settings.model_copy(update={"database_pool_size": 3}))
    assert database.engine.pool.size() == 1  # type: ignore[attr-defined]
    try:
        yield database
    finally:
        await database.dispose()


def _institution(name: str) -> Institution:
    return Institution(name=name, name_key=name, slug=name, created_at=utcnow())


async def _count(db: Database, name: str) -> int:
    count: int = await scalar(db, "SELECT count(*) FROM institutions WHERE slug = :s", s=name)
    return count


async def test_an_orm_only_command_is_flushed_and_committed(db: Database) -> None:
    async def command(session: AsyncSession) -> None:
        session.add(_institution("orm-only"))  # nothing executed until the commit flushes it

    await db.run(command)

    assert await _count(db, "orm-only") == 1


async def test_prepared_and_orm_writes_commit_together(db: Database) -> None:
    async def command(session: AsyncSession) -> None:
        await _NEW_INSTITUTION.one(session, {"name": "prepared-half"})
        session.add(_institution("orm-half"))
        await session.flush()
        await _NEW_INSTITUTION.one(session, {"name": "prepared-after"})

    await db.run(command)

    assert [await _count(db, n) for n in ("prepared-half", "orm-half", "prepared-after")] == [1] * 3


async def test_prepared_and_orm_writes_roll_back_together(db: Database) -> None:
    async def command(session: AsyncSession) -> None:
        session.add(_institution("orm-gone"))
        await session.flush()
        await _NEW_INSTITUTION.one(session, {"name": "prepared-gone"})
        raise Refused

    with pytest.raises(Refused):
        await db.run(command)

    assert await _count(db, "orm-gone") == 0
    assert await _count(db, "prepared-gone") == 0


@pytest.mark.postgres_only
@pytest.mark.parametrize("orm_first", [True, False])
async def test_the_orm_and_prepared_statements_share_one_transaction(
    db: Database, orm_first: bool
) -> None:
    orm = text("SELECT pg_current_xact_id()::text")

    async def command(session: AsyncSession) -> list[str]:
        if orm_first:
            return [await session.scalar(orm), (await _XACT.one(session)).xact]
        return [(await _XACT.one(session)).xact, await session.scalar(orm)]

    first, second = await db.run(command)

    assert first == second


@pytest.mark.postgres_only
async def test_a_commands_session_is_closed_to_use_after_it(db: Database) -> None:
    kept: list[AsyncSession] = []

    async def command(session: AsyncSession) -> None:
        kept.append(session)
        await _ONE.one(session)

    await db.run(command)

    # Its connection is back in the pool, maybe in another command's hands: it must not be used.
    # (A session of its own, as on SQLite, would simply take another connection.)
    with pytest.raises(exc.SQLAlchemyError):
        await kept[0].execute(text("SELECT 1"))


# A deferred constraint is checked by COMMIT: the only way to have a COMMIT refuse on demand.
_DEFERRED_TABLE = Prepared(
    text(
        "CREATE TEMPORARY TABLE deferred_check (n int UNIQUE DEFERRABLE INITIALLY DEFERRED) "
        "ON COMMIT DROP"
    )
)
_DEFERRED_ROW = Prepared(text("INSERT INTO deferred_check (n) VALUES (1)"))


async def _written_twice(session: AsyncSession, name: str, way: str) -> None:
    """The same row twice: the second write breaks a unique constraint, by a Prepared
    statement, by the ORM's flush, or (deferred) at COMMIT."""
    if way == "at commit":
        await _NEW_INSTITUTION.one(session, {"name": name})
        await _DEFERRED_TABLE.run(session)
    for _ in range(2):
        if way == "orm":
            session.add(_institution(name))
            await session.flush()
        elif way == "prepared":
            await _NEW_INSTITUTION.one(session, {"name": name})
        else:
            await _DEFERRED_ROW.run(session)  # accepted until COMMIT checks it


@pytest.mark.postgres_only
@pytest.mark.parametrize("way", ["prepared", "orm", "at commit"])
async def test_a_failed_write_rolls_back_and_the_connection_serves_the_next_command(
    single: Database, way: str
) -> None:
    name = f"unique-{way}"
    first = await single.run(lambda s: _BACKEND.one(s))

    with pytest.raises(exc.IntegrityError) as refused:  # SQLAlchemy's error, at COMMIT too
        await single.run(lambda s: _written_twice(s, name, way))
    then = await single.run(lambda s: _BACKEND.one(s))

    assert getattr(refused.value.orig, "sqlstate", None) == "23505"
    assert then.pid == first.pid  # the error ended the transaction; the connection is sound
    assert await _count(single, name) == 0
    assert single.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres_only
async def test_a_command_cancelled_mid_statement_drops_its_connection(single: Database) -> None:
    first = await single.run(lambda s: _BACKEND.one(s))

    async def sleeps(session: AsyncSession) -> None:
        await _NEW_INSTITUTION.one(session, {"name": "cancelled"})
        await _SLEEP.run(session)

    task = asyncio.create_task(single.run(sleeps))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    then = await asyncio.wait_for(single.run(lambda s: _BACKEND.one(s)), 10)

    # Still waiting for the sleep's answer, the connection could not go back to the pool.
    assert then.pid != first.pid
    assert single.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await _count(single, "cancelled") == 0


@pytest.mark.postgres_only
async def test_connections_go_back_to_the_pool_whatever_the_command_did(db: Database) -> None:
    async def refuses(session: AsyncSession) -> None:
        await _ONE.one(session)
        raise Refused

    async def uses_the_orm(session: AsyncSession) -> Any:
        return await session.scalar(text("SELECT 1"))

    for command in (lambda s: _ONE.one(s), uses_the_orm):
        await asyncio.gather(*(db.run(command) for _ in range(30)))
    results = await asyncio.gather(*(db.run(refuses) for _ in range(30)), return_exceptions=True)

    assert all(isinstance(result, Refused) for result in results)
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres_only
async def test_a_command_announces_itself_as_an_event_writer_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    announced: list[None] = []
    one = inflight._PREPARED_ANNOUNCE.one

    async def counted(executor: Any, parameters: Any = None) -> Any:
        announced.append(None)
        return await one(executor, parameters)

    monkeypatch.setattr(inflight._PREPARED_ANNOUNCE, "one", counted)
    institution = await db.run(lambda s: _NEW_INSTITUTION.one(s, {"name": "announcing"}))

    async def command(session: AsyncSession) -> tuple[list[int], int | None, int]:
        drawn = []
        for step in range(3):
            if step == 1:
                await session.scalar(text("SELECT 1"))  # the ORM begins on the same connection
            record_event(
                session,
                AuditRepaired(invariant=f"step {step}", row={}),
                institution_id=institution.id,
            )
            drawn += await write_events(session)
        return drawn, transaction_of(session).xid, int((await _XACT.one(session)).xact)

    drawn, taken, xid = await db.run(command)

    assert len(drawn) == 3
    assert len(announced) == 1
    assert taken == xid  # the announcement took the transaction's id
