"""What only PostgreSQL allows: overlapping writers, several processes, a lost LISTEN connection."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.inflight import NOTIFY_CHANNEL, LogHead
from lectern.events.service import record_event, write_events
from lectern.events.types import AuditRepaired
from lectern.platform.db import Database
from tests.backends import admin_connection, kill_every_backend
from tests.conftest import free_port
from tests.events.conftest import EventStream, StreamServer, record_through
from tests.factories import Person, World

pytestmark = pytest.mark.postgres_only


async def append(session: AsyncSession, person: Person) -> int:
    record_event(
        session, AuditRepaired(invariant="overlap", row={}), institution_id=person.institution_id
    )
    [event_id] = await write_events(session)
    return event_id


async def commit_with_notify(session: AsyncSession, event_id: int) -> None:
    await session.execute(
        text("SELECT pg_notify(:channel, :id)"), {"channel": NOTIFY_CHANNEL, "id": str(event_id)}
    )
    await session.commit()


async def test_a_lower_id_that_commits_last_is_delivered_once(
    stream_server: StreamServer, world: World, db: Database
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        async with db.sessionmaker() as first, db.sessionmaker() as second:
            low = await append(first, admin)
            high = await append(second, admin)
            assert low < high
            await commit_with_notify(second, high)
            # The pump reads while `low` is still open: it must hold `high` back, not skip `low`.
            assert await stream_server.call(stream_server.pump.drain) is True
            await commit_with_notify(first, low)
        assert [m.id for m in await stream.take(2)] == [low, high]
        [marker] = await stream_server.record(admin, audience="admins")
        assert [m.id for m in await stream.take(1)] == [marker]


async def test_an_open_transaction_that_writes_no_events_does_not_hold_delivery_back(
    stream_server: StreamServer, world: World, db: Database
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream, db.sessionmaker() as bystander:
        # An older write transaction, still open, that appends no event.
        await bystander.execute(text("SELECT pg_current_xact_id()"))
        await bystander.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at)"
                " VALUES ('Bystander', 'bystander', 'bystander', now())"
            )
        )
        event_ids = await record_through(db, admin, audience="admins")
        assert [m.id for m in await stream.take(1)] == event_ids
        await bystander.rollback()


async def test_resuming_while_a_lower_id_is_still_open_delivers_both_in_order(
    stream_server: StreamServer, world: World, db: Database
) -> None:
    admin = await world.admin()
    async with db.sessionmaker() as first, db.sessionmaker() as second:
        low = await append(first, admin)
        high = await append(second, admin)
        await commit_with_notify(second, high)
        # The client resumes just below `low`, whose transaction is still open.
        async with EventStream(stream_server, admin, last_event_id=low - 1) as stream:
            await commit_with_notify(first, low)
            assert [m.id for m in await stream.take(2)] == [low, high]


async def test_a_writer_open_across_several_drains_holds_back_what_commits_after_it(
    stream_server: StreamServer, world: World, db: Database
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        async with db.sessionmaker() as slow:
            low = await append(slow, admin)
            later: list[int] = []
            for _ in range(3):
                later += await record_through(db, admin, 2, audience="admins")
                assert await stream_server.call(stream_server.pump.drain) is True
            await commit_with_notify(slow, low)
        assert [m.id for m in await stream.take(7)] == [low, *later]


async def test_a_reset_event_sequence_is_noticed_even_once_it_has_climbed_back(
    world: World, db: Database
) -> None:
    admin = await world.admin()
    head = LogHead()
    await record_through(db, admin, 2)
    async with db.reader() as reader:
        first = await head.final_up_to(reader)
        await reader.execute(text("TRUNCATE events RESTART IDENTITY"))
    await record_through(db, admin, first.upto + 3)
    async with db.reader() as reader:
        again = await head.final_up_to(reader)
        steady = await head.final_up_to(reader)
    assert not first.restarted
    assert again.restarted
    assert not steady.restarted
    assert again.upto == first.upto + 3


async def test_a_rolled_back_event_leaves_a_gap_that_does_not_stall_the_stream(
    stream_server: StreamServer, world: World, db: Database
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        async with db.sessionmaker() as abandoned:
            lost = await append(abandoned, admin)
            await abandoned.rollback()
        kept = await record_through(db, admin, audience="admins")
        assert kept[0] > lost
        assert [m.id for m in await stream.take(1)] == kept


@pytest.fixture
def two_processes(database_url: str) -> Iterator[list[str]]:
    """Two `uvicorn` processes of the app on one database."""
    env = os.environ | {"LECTERN_DATABASE_URL": database_url, "LECTERN_DEMO_ON_FIRST_START": "0"}
    processes, urls = [], []
    for _ in range(2):
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "lectern.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        processes.append(subprocess.Popen(command, env=env))  # noqa: S603
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            _wait_until_serving(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


def _wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


async def test_a_write_through_one_process_reaches_a_stream_on_another_within_a_second(
    two_processes: list[str], world: World
) -> None:
    writer, reader = two_processes
    admin = await world.admin()
    async with EventStream(reader, admin) as stream, httpx.AsyncClient() as http:
        response = await http.post(
            f"{writer}/api/v1/courses",
            json={"title": "Across processes", "status": "draft", "access": "open"},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        course_id = response.json()["id"]
        async with asyncio.timeout(1.0):
            message = await stream.next()
            while message.data["type"] != "course.created":
                message = await stream.next()
    assert message.data["payload"]["id"] == course_id


async def test_events_still_arrive_after_the_listening_connection_is_killed(
    stream_server: StreamServer, world: World, db: Database
) -> None:
    listener = stream_server.pump.listener
    assert listener is not None
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        killed = listener.backend_pid
        assert killed is not None
        async with db.session() as session:
            terminated = await session.scalar(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": killed}
            )
        assert terminated
        # Committed by another process (the test's own Database) while no one may be listening.
        meanwhile = await record_through(db, admin, audience="admins")
        for _ in range(1000):
            if listener.backend_pid not in (None, killed):
                break
            await asyncio.sleep(0.01)
        assert listener.backend_pid not in (None, killed)
        after = await record_through(db, admin, audience="admins")
        assert [m.id for m in await stream.take(2)] == meanwhile + after


async def test_a_stream_still_gets_events_after_every_connection_of_the_server_is_ended(
    stream_server: StreamServer, world: World, db: Database, database_url: str
) -> None:
    listener = stream_server.pump.listener
    assert listener is not None
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        killed = listener.backend_pid
        async with admin_connection(database_url) as admin_session:
            assert await kill_every_backend(admin_session) > 0
        # The server's own commands find their pooled connections ended, and its pump its reader.
        through_server = await stream_server.record(admin, audience="admins")
        for _ in range(1000):
            if listener.backend_pid not in (None, killed):
                break
            await asyncio.sleep(0.01)
        assert listener.backend_pid not in (None, killed)
        # Committed elsewhere: only the new LISTEN connection can tell the server's pump.
        elsewhere = await record_through(db, admin, audience="admins")
        assert [m.id for m in await stream.take(2)] == through_server + elsewhere
