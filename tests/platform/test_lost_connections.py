"""PostgreSQL ends the server's connections (a restart, a failover, pg_terminate_backend): the
requests of that moment, and the first ones after it, are answered as if nothing happened."""

import asyncio
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.service import record_event
from lectern.events.types import AuditRepaired
from lectern.models import Institution
from lectern.platform.db import MAX_LOST_CONNECTIONS, Database
from lectern.platform.prepared import Prepared
from lectern.platform.transaction import transaction_of
from lectern.platform.unavailable import CommitOutcomeUnknown, DatabaseUnavailable
from tests.backends import admin_connection, kill_every_backend
from tests.conftest import LiveServer
from tests.factories import Person, World
from tests.rows import rows

pytestmark = pytest.mark.postgres_only

CLIENTS = 20
APPROVERS = 4
KILL_SPACING = 0.3  # seconds at least
KILLS = 6


@dataclass
class Tally:
    """What the clients were answered, and the writes acknowledged with a 2xx."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    answered: Counter[int] = field(default_factory=Counter)  # by client
    approved: list[int] = field(default_factory=list)  # request ids
    enrolled: list[tuple[int, int]] = field(default_factory=list)  # (user, course)
    watched: list[tuple[int, float, float]] = field(default_factory=list)  # (user, from, to)
    done: bool = False
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, client: int, response: httpx.Response) -> bool:
        self.answered[client] += 1
        self.progress.set()
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            kind = response.json().get("type", "") if response.text else ""
            self.failures.append(f"{response.request.method} {kind}")
        return response.status_code < 300

    async def every_client_answered(self) -> None:
        """Until each client has had an answer since now: the request each had in flight (the
        one a kill just ended, and its retry) is over, so the next kill cannot end it again."""
        since = Counter(self.answered)
        while any(self.answered[n] <= since[n] for n in range(CLIENTS)):
            self.progress.clear()
            await self.progress.wait()


@dataclass
class School:
    admin: Person
    students: list[Person]
    open_courses: list[int]
    video_lesson: int
    pending: list[int]  # access request ids


async def _school(world: World, client: httpx.AsyncClient) -> School:
    admin = await world.admin()
    students = [await world.student(admin.institution_slug) for _ in range(CLIENTS)]
    video = {"title": "Watch", "kind": "video", "duration_s": 10_000, "video_url": "/v.mp4"}
    watching = await world.course(
        admin, access="open", chapters=[{"title": "One", "lessons": [video]}]
    )
    open_courses = [(await world.course(admin, access="open"))["id"] for _ in range(8)]
    approval_courses = [(await world.course(admin))["id"] for _ in range(8)]
    pending = []
    for student in students:
        enrolled = await client.post(
            f"/api/v1/courses/{watching['id']}/enroll", headers=student.headers
        )
        assert enrolled.status_code == 201, enrolled.text
        for course_id in approval_courses:
            asked = await client.post(
                f"/api/v1/courses/{course_id}/access-requests", headers=student.headers
            )
            assert asked.status_code == 201, asked.text
            pending.append(asked.json()["id"])
    random.shuffle(pending)
    lesson = watching["chapters"][0]["lessons"][0]["id"]
    return School(admin, students, open_courses, lesson, pending)


async def _approve(
    http: httpx.AsyncClient, school: School, client: int, mine: list[int], tally: Tally
) -> None:
    while not tally.done:
        if mine:
            request_id = mine.pop()
            response = await http.post(
                f"/api/v1/admin/access-requests/{request_id}/approve", headers=school.admin.headers
            )
            if tally.answer(client, response):
                tally.approved.append(request_id)
        queue = await http.get(
            "/api/v1/admin/access-requests?status=pending", headers=school.admin.headers
        )
        tally.answer(client, queue)


async def _learn(http: httpx.AsyncClient, school: School, client: int, tally: Tally) -> None:
    student = school.students[client]
    courses = list(school.open_courses)
    second = 0.0
    while not tally.done:
        if courses:
            course_id = courses.pop()
            enroll = f"/api/v1/courses/{course_id}/enroll"
            if tally.answer(client, await http.post(enroll, headers=student.headers)):
                tally.enrolled.append((student.id, course_id))
        watched = {"type": "video.watched", "lesson_id": school.video_lesson}
        watched |= {"from_s": second, "to_s": second + 1}
        response = await http.post(
            "/api/v1/activity", json={"events": [watched]}, headers=student.headers
        )
        if tally.answer(client, response) and response.json()["results"][0]["accepted"]:
            tally.watched.append((student.id, second, second + 1))
        second += 2
        for path in ("/api/v1/me/enrollments", "/api/v1/courses"):
            tally.answer(client, await http.get(path, headers=student.headers))


async def _load_while_killing(
    server: LiveServer, school: School, admin: asyncpg.Connection
) -> tuple[Tally, list[int]]:
    """Every client busy while every connection is ended, KILLS times, a request at most once."""
    tally = Tally()
    kills: list[int] = []

    async def killer() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(KILL_SPACING)
            await tally.every_client_answered()
            kills.append(await kill_every_backend(admin))
        await tally.every_client_answered()
        tally.done = True

    shares = [school.pending[n::APPROVERS] for n in range(APPROVERS)]
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        await asyncio.gather(
            killer(),
            *(_approve(http, school, n, share, tally) for n, share in enumerate(shares)),
            *(_learn(http, school, n, tally) for n in range(APPROVERS, CLIENTS)),
        )
    return tally, kills


async def _lost_writes(db: Database, tally: Tally) -> list[Any]:
    approved = {
        r["id"]
        for r in await rows(
            db,
            "SELECT r.id FROM access_requests r JOIN enrollments e"
            " ON e.user_id = r.user_id AND e.course_id = r.course_id"
            " WHERE r.status = 'approved' AND e.status = 'active'",
        )
    }
    enrolled = {
        (r["user_id"], r["course_id"])
        for r in await rows(
            db, "SELECT user_id, course_id FROM enrollments WHERE status = 'active'"
        )
    }
    intervals: dict[int, list[list[float]]] = {
        r["user_id"]: r["watched"]
        for r in await rows(
            db,
            "SELECT e.user_id, p.watched FROM lesson_progress p"
            " JOIN enrollments e ON e.id = p.enrollment_id",
        )
    }

    def kept(user: int, start: float, end: float) -> bool:
        return any(a <= start and end <= b for a, b in intervals.get(user, []))

    return (
        [r for r in tally.approved if r not in approved]
        + [pair for pair in tally.enrolled if pair not in enrolled]
        + [w for w in tally.watched if not kept(*w)]
    )


async def test_killing_every_connection_under_load_fails_no_request_and_loses_no_write(
    world: World,
    client: httpx.AsyncClient,
    db: Database,
    live_server: LiveServer,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    school = await _school(world, client)

    with caplog.at_level(logging.INFO, logger="lectern.platform.db"):
        async with admin_connection(database_url) as admin:
            tally, kills = await _load_while_killing(live_server, school, admin)
    lost_commits = Counter(
        str(r.args[1])
        for r in caplog.records
        if r.msg == "COMMIT of transaction %s lost its connection: %s"
    )

    print(
        f"\n{sum(tally.statuses.values())} answers {dict(tally.statuses)};"
        f" {len(kills)} kills ending {sum(kills)} connections;"
        f" {len(tally.approved)} approvals, {len(tally.enrolled)} enrollments,"
        f" {len(tally.watched)} activity posts acknowledged;"
        f" COMMITs that lost their connection, by outcome: {dict(lost_commits)}"
    )
    assert len(kills) == KILLS
    assert all(kills)
    assert tally.failures == []
    assert tally.approved
    assert tally.enrolled
    assert tally.watched
    assert await _lost_writes(db, tally) == []


async def test_requests_after_every_idle_connection_was_ended_succeed(
    world: World, client: httpx.AsyncClient, db: Database, database_url: str
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    asked = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    async with admin_connection(database_url) as killer:
        assert await kill_every_backend(killer) > 0

    approved = await client.post(
        f"/api/v1/admin/access-requests/{asked.json()['id']}/approve", headers=admin.headers
    )
    enrollments = await client.get("/api/v1/me/enrollments", headers=student.headers)

    assert approved.status_code == 200, approved.text
    assert enrollments.status_code == 200, enrollments.text
    assert [e["course_id"] for e in enrollments.json()] == [course["id"]]


async def test_a_command_that_keeps_losing_its_connection_is_unavailable_and_saves_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    runs = 0

    async def ends_its_own_connection(session: Any) -> None:
        nonlocal runs
        runs += 1
        session.add(Institution(name="Lost", name_key="lost", slug="lost"))
        await session.flush()
        await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    with pytest.raises(DatabaseUnavailable):
        await db.run(ends_its_own_connection)

    assert runs == MAX_LOST_CONNECTIONS
    assert await rows(db, "SELECT id FROM institutions WHERE slug = 'lost'") == []
    me = await client.get("/api/v1/me", headers=admin.headers)
    assert me.status_code == 200, me.text


# A COMMIT whose connection is lost: the server is asked whether the transaction committed.

_LOST_COMMIT_TABLE = """
    CREATE TABLE lost_commit (n int);
    CREATE SEQUENCE lost_commit_once;
    CREATE FUNCTION lost_commit_end() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF nextval('lost_commit_once') = 1 THEN
            PERFORM pg_terminate_backend(pg_backend_pid());
        END IF;
        RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER lost_commit_end AFTER INSERT ON lost_commit
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lost_commit_end();
"""
_WRITE_ROW = Prepared(text("INSERT INTO lost_commit (n) VALUES (1)"))


@pytest.fixture
async def ends_its_first_commit(database_url: str) -> AsyncIterator[None]:
    """A table whose rows are checked by COMMIT (a deferred trigger): the first such COMMIT ends
    its own server process before it commits, every later one commits."""
    async with admin_connection(database_url) as admin:
        await admin.execute(_LOST_COMMIT_TABLE)
    yield
    async with admin_connection(database_url) as admin:
        await admin.execute(
            "DROP TABLE lost_commit; DROP SEQUENCE lost_commit_once; DROP FUNCTION lost_commit_end"
        )


def _writes_a_row_and_an_event(admin: Person, runs: list[asyncpg.Connection | None]) -> Any:
    """A command that writes a row and an event (whose announcement takes the transaction's id),
    noting the driver connection of each of its runs."""

    async def command(session: AsyncSession) -> str:
        runs.append(transaction_of(session).driver)
        await _WRITE_ROW.run(session)
        record_event(
            session, AuditRepaired(invariant="lost", row={}), institution_id=admin.institution_id
        )
        return "done"

    return command


async def _written(db: Database) -> tuple[int, int]:
    table = await rows(db, "SELECT count(*) AS n FROM lost_commit")
    events = await rows(db, "SELECT count(*) AS n FROM events WHERE payload->>'invariant' = 'lost'")
    return table[0]["n"], events[0]["n"]


async def test_a_commit_that_lost_its_connection_and_did_not_commit_runs_again(
    world: World, db: Database, ends_its_first_commit: None
) -> None:
    admin = await world.admin()
    runs: list[asyncpg.Connection | None] = []

    result = await db.run(_writes_a_row_and_an_event(admin, runs))

    assert result == "done"
    assert len(runs) == 2
    assert await _written(db) == (1, 1)


async def test_a_commit_that_lost_its_connection_after_committing_is_answered_once(
    world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No server can be made to commit and then lose the answer on demand: here the COMMIT is
    sent and answered, and then the connection is cut as though the answer had been lost."""
    admin = await world.admin()
    runs: list[asyncpg.Connection | None] = []
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE lost_commit (n int)")
    commit = asyncpg.transaction.Transaction.commit

    async def answer_lost(transaction: asyncpg.transaction.Transaction) -> None:
        await commit(transaction)
        [driver] = runs
        assert driver is not None
        driver.terminate()
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    monkeypatch.setattr(asyncpg.transaction.Transaction, "commit", answer_lost)
    try:
        result = await db.run(_writes_a_row_and_an_event(admin, runs))
    finally:
        monkeypatch.undo()
    written = await _written(db)
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE lost_commit")

    assert result == "done"
    assert len(runs) == 1
    assert written == (1, 1)


async def test_a_lost_commit_of_a_transaction_whose_id_was_never_taken_is_unknown(
    db: Database, ends_its_first_commit: None
) -> None:
    runs: list[None] = []

    async def writes_a_row_only(session: AsyncSession) -> None:
        runs.append(None)
        await _WRITE_ROW.run(session)

    with pytest.raises(CommitOutcomeUnknown):
        await db.run(writes_a_row_only)

    assert runs == [None]  # run once: whether it committed is unknown
