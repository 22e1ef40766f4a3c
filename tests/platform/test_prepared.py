"""Prepared statements (lectern.platform.prepared): the rows SQLAlchemy would give, in the
transaction of the session or connection they run on, and on PostgreSQL straight on the driver."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest
from sqlalchemy import (
    Float,
    Numeric,
    String,
    bindparam,
    cast,
    event,
    exc,
    insert,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.service import start_session
from lectern.enrollments.pair import ENROLLMENTS, current_enrollment, enroll
from lectern.enrollments.requests import RequestedCourse
from lectern.events.service import record_event, write_events
from lectern.events.types import AuditRepaired, LessonProgressed, ProgressUpdated
from lectern.models import Base, User
from lectern.models.base import UTCDateTime, utcnow
from lectern.models.enums import EnrollmentSource
from lectern.notifications.service import _WRITE, notify
from lectern.platform.auth import _BY_SESSION, _BY_TOKEN
from lectern.platform.db import Database
from lectern.platform.prepared import Prepared
from lectern.platform.tokens import token_digest
from lectern.platform.transaction import transaction_of
from tests.factories import Person, World
from tests.rows import rows, scalar

_EVENTS = Base.metadata.tables["events"]
_NOTIFICATIONS = Base.metadata.tables["notifications"]
_INSTITUTIONS = Base.metadata.tables["institutions"]


async def _enrolled(world: World, db: Database) -> tuple[Person, dict[str, Any]]:
    """A student enrolled in a course, with a progress that is no whole number."""
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    ref = RequestedCourse(course["id"], course["institution_id"], course["title"])
    await db.run(lambda s: enroll(s, user_id=student.id, course=ref, source=EnrollmentSource.ADMIN))
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE enrollments SET progress = 37.25 WHERE user_id = :u"), {"u": student.id}
        )
    return student, course


async def _prepared_and_plain(
    session: AsyncSession, prepared: Prepared, parameters: dict[str, Any]
) -> tuple[list[Any], list[Any], tuple[str, ...]]:
    """The rows of `prepared` (twice: its first run learns the columns) and of SQLAlchemy."""
    first = await prepared.all(session, parameters)
    again = await prepared.all(session, parameters)
    assert again == first
    result = await session.execute(prepared.statement(session.get_bind().dialect.name), parameters)
    return first, [tuple(row) for row in result], tuple(result.keys())


def _same_values(got: list[Any], expected: list[Any]) -> None:
    assert [tuple(row) for row in got] == expected
    # Equality alone would take Decimal('37.25') for 37.25, or a +02:00 time for the UTC one.
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is UTC


async def test_rows_are_named_tuples_of_the_values_sqlalchemy_gives(
    world: World, db: Database
) -> None:
    student, _ = await _enrolled(world, db)
    prepared = Prepared(
        select(
            ENROLLMENTS.c.id,
            ENROLLMENTS.c.progress,
            # numeric on the wire, float in Python: processed by what the server sends
            type_coerce(cast(ENROLLMENTS.c.progress, Numeric(6, 2)), Float).label("rounded"),
            ENROLLMENTS.c.completed_at,
            ENROLLMENTS.c.created_at,
        ).where(ENROLLMENTS.c.user_id == bindparam("user_id"))
    )
    async with db.session() as session:
        got, expected, keys = await _prepared_and_plain(session, prepared, {"user_id": student.id})

    _same_values(got, expected)
    [row] = got
    assert row._fields == keys == ("id", "progress", "rounded", "completed_at", "created_at")
    assert (row.progress, row.rounded, row.completed_at) == (37.25, 37.25, None)
    assert isinstance(row.rounded, float)
    assert _is_utc(row.created_at)


async def test_json_and_null_columns_come_back_as_sqlalchemy_gives_them(
    world: World, db: Database
) -> None:
    admin = await world.admin()
    # Progress about no learner: recorded nowhere else, so this test finds its own row.
    lesson = LessonProgressed(lesson_id=1, watched_s=0.5, completed=False, best_score=None)
    progressed = ProgressUpdated(
        enrollment_id=1,
        course_id=1,
        course_title="Zoë",
        progress=0.5,
        previous=0,
        status="active",
        lessons=[lesson],
    )
    payload = progressed.payload()

    async def command(session: AsyncSession) -> None:
        record_event(session, progressed, institution_id=admin.institution_id)

    await db.run(command)
    prepared = Prepared(
        select(_EVENTS).where(_EVENTS.c.type == bindparam("type"), _EVENTS.c.user_id.is_(None))
    )
    async with db.session() as session:
        got, expected, keys = await _prepared_and_plain(
            session, prepared, {"type": "progress.updated"}
        )

    _same_values(got, expected)
    [row] = got
    assert row._fields == keys == tuple(_EVENTS.c.keys())
    assert (row.payload, row.user_id, row.audience) == (payload, None, "admins")
    assert _is_utc(row.created_at)


async def test_a_prepared_insert_returns_the_row_as_written(world: World, db: Database) -> None:
    admin = await world.admin()
    created_at = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    values = {"user_id": admin.id, "kind": "k", "title": "T", "body": "", "link": "/x"}

    written = await db.run(lambda s: _WRITE.one(s, values | {"created_at": created_at}))

    assert written.created_at == created_at
    assert _is_utc(written.created_at)
    assert (written.user_id, written.title, written.read_at) == (admin.id, "T", None)
    async with db.session() as session:
        stored = (await session.execute(select(_NOTIFICATIONS))).one()
    assert tuple(written) == tuple(stored)


async def test_a_prepared_statement_is_built_once_for_the_backends_dialect(
    db: Database, backend: str
) -> None:
    seen: list[str] = []

    def build(dialect_name: str) -> Any:
        seen.append(dialect_name)
        return select(literal(dialect_name, String).label("dialect"), literal(2).label("two"))

    prepared = Prepared(build)
    async with db.session() as session:
        first = await prepared.one(session)
        second = await prepared.one(session)

    assert seen == [backend]
    assert first == second == (backend, 2)
    assert first._fields == ("dialect", "two")
    assert prepared.statement(backend) is prepared.statement(backend)
    assert seen == [backend]


@pytest.mark.parametrize("count", [3, 8, 9, 12])
async def test_recorded_events_are_written_in_record_order(
    world: World, db: Database, count: int
) -> None:
    admin = await world.admin()
    types = [f"order.{n}" for n in range(count)]

    async def command(session: AsyncSession) -> tuple[list[int], int]:
        for type_ in types:
            record_event(
                session,
                AuditRepaired(invariant=type_, row={}),
                institution_id=admin.institution_id,
                user_id=admin.id,
            )
        ids = await write_events(session)
        last = transaction_of(session).last_event_id
        assert last is not None
        return ids, last

    ids, last = await db.run(command)

    async with db.session() as session:
        mine = select(_EVENTS.c.id, _EVENTS.c.payload).where(_EVENTS.c.user_id == admin.id)
        stored = (await session.execute(mine.order_by(_EVENTS.c.id))).all()
    assert len(ids) == count
    assert ids == sorted(ids)
    assert last == ids[-1]
    assert [r.id for r in stored] == ids
    assert [r.payload["invariant"] for r in stored] == types


async def test_a_prepared_lookup_on_a_reader_connection(world: World, db: Database) -> None:
    admin = await world.admin()
    known = {"digest": token_digest(admin.token), "now": utcnow()}
    unknown = {"digest": token_digest("no such token"), "now": utcnow()}
    async with db.reader() as reader:
        found = await _BY_TOKEN.one_or_none(reader, known)
        missing = await _BY_TOKEN.one_or_none(reader, unknown)
        await reader.execute(text("SELECT 1"))  # SQLAlchemy has begun its (autocommit) transaction
        again = await _BY_TOKEN.one_or_none(reader, known)

    assert missing is None
    assert found is not None
    assert (found.id, found.institution_id, found.email) == (
        admin.id,
        admin.institution_id,
        admin.email,
    )
    assert again == found


async def test_a_session_lookup_compares_a_utc_parameter_on_a_reader(
    world: World, db: Database
) -> None:
    admin = await world.admin()

    async def login(session: AsyncSession) -> tuple[str, str]:
        user = await session.get(User, admin.id)
        assert user is not None
        return await start_session(session, user, days=1)

    cookie, csrf = await db.run(login)
    digest = token_digest(cookie)
    async with db.reader() as reader:
        live = await _BY_SESSION.one_or_none(reader, {"digest": digest, "now": utcnow()})
        later = utcnow() + timedelta(days=2)
        expired = await _BY_SESSION.one_or_none(reader, {"digest": digest, "now": later})

    assert live is not None
    assert (live.id, live.csrf_token) == (admin.id, csrf)
    assert expired is None


# PostgreSQL: the driver path and the transaction it runs in.


async def _notifications_of(db: Database, person: Person) -> list[str]:
    found = await rows(db, "SELECT title FROM notifications WHERE user_id = :u", u=person.id)
    return [r["title"] for r in found]


async def _notify(session: AsyncSession, person: Person, title: str) -> None:
    await notify(
        session, user_id=person.id, institution_id=person.institution_id, kind="k", title=title
    )


class Abandoned(Exception):
    pass


@pytest.mark.postgres_only
async def test_prepared_writes_roll_back_with_the_command(world: World, db: Database) -> None:
    admin = await world.admin()
    events_before = await scalar(db, "SELECT count(*) FROM events")

    async def command(session: AsyncSession) -> None:
        await _notify(session, admin, "first")  # the session's first statement: Prepared
        await write_events(session)  # prepared too
        await session.execute(
            text("UPDATE users SET full_name = 'Changed' WHERE id = :u"), {"u": admin.id}
        )
        raise Abandoned

    with pytest.raises(Abandoned):
        await db.run(command)

    assert await _notifications_of(db, admin) == []
    assert await scalar(db, "SELECT count(*) FROM events") == events_before
    assert await scalar(db, "SELECT full_name FROM users WHERE id = :u", u=admin.id) != "Changed"


@pytest.mark.postgres_only
async def test_prepared_writes_commit_with_the_command(world: World, db: Database) -> None:
    admin = await world.admin()

    async def command(session: AsyncSession) -> None:
        await _notify(session, admin, "first")
        await session.execute(
            text("UPDATE users SET full_name = 'Changed' WHERE id = :u"), {"u": admin.id}
        )
        await _notify(session, admin, "second")

    await db.run(command)

    assert sorted(await _notifications_of(db, admin)) == ["first", "second"]
    assert await scalar(db, "SELECT full_name FROM users WHERE id = :u", u=admin.id) == "Changed"
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM events WHERE type = 'notification.created' AND user_id = :u",
            u=admin.id,
        )
        == 2
    )


@pytest.mark.postgres_only
async def test_a_prepared_statement_runs_in_the_sessions_own_transaction(db: Database) -> None:
    xid = Prepared(text("SELECT pg_current_xact_id()::text AS xid"))
    plain = text("SELECT pg_current_xact_id()::text")
    async with db.session() as first, db.session() as second:
        prepared_first = (await xid.one(first)).xid
        plain_then = await first.scalar(plain)
        plain_first = await second.scalar(plain)
        prepared_then = (await xid.one(second)).xid

    assert prepared_first == plain_then
    assert plain_first == prepared_then
    assert prepared_first != plain_first


@contextlib.contextmanager
def _sent_through_sqlalchemy(db: Database) -> Iterator[list[str]]:
    """The statements SQLAlchemy sends on the commands' engine meanwhile."""
    sent: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listen)


@pytest.mark.postgres_only
async def test_commands_of_prepared_statements_send_nothing_through_sqlalchemy(
    world: World, db: Database
) -> None:
    student, course = await _enrolled(world, db)

    async def lookups(session: AsyncSession) -> list[Any]:
        return [await current_enrollment(session, student.id, course["id"]) for _ in range(2)]

    with _sent_through_sqlalchemy(db) as through_sqlalchemy:
        found = await db.run(lookups)
        await db.run(lambda s: _notify(s, student, "hello"))  # a write, its event, the announce

    assert through_sqlalchemy == []
    assert [(row.user_id, row.course_id, row.progress) for row in found] == [
        (student.id, course["id"], 37.25)
    ] * 2
    assert await _notifications_of(db, student) == ["hello"]


@pytest.mark.postgres_only
async def test_in_a_plain_session_sqlalchemy_begins_and_prepared_statements_follow_on_the_driver(
    world: World, db: Database
) -> None:
    """Outside Database.run nothing has begun the session's transaction: its first statement
    goes through SQLAlchemy, which begins it lazily, and the next ones run in it on the driver."""
    student, course = await _enrolled(world, db)
    xid = Prepared(text("SELECT pg_current_xact_id()::text AS xid"))

    with _sent_through_sqlalchemy(db) as through_sqlalchemy:
        async with db.session() as session:
            first = await current_enrollment(session, student.id, course["id"])
            second = await current_enrollment(session, student.id, course["id"])
            xids = {(await xid.one(session)).xid, await session.scalar(text(_XID_TEXT))}

    [statement] = [sent for sent in through_sqlalchemy if _XID_TEXT not in sent]
    assert "FROM enrollments" in statement
    assert first == second
    assert first.progress == 37.25
    assert len(xids) == 1


_XID_TEXT = "SELECT pg_current_xact_id()::text"


# PostgreSQL: errors arrive as SQLAlchemy's.


_NEW_INSTITUTION = Prepared(
    insert(_INSTITUTIONS)
    .values(
        name=bindparam("name"),
        name_key=bindparam("name"),
        slug=bindparam("name"),
        created_at=bindparam("now", type_=UTCDateTime()),
    )
    .returning(_INSTITUTIONS.c.id)
)


@pytest.mark.postgres_only
async def test_a_unique_violation_is_sqlalchemys_integrity_error(db: Database) -> None:
    values = {"name": "twice", "now": utcnow()}

    async def command(session: AsyncSession) -> None:
        await _NEW_INSTITUTION.one(session, values)
        await _NEW_INSTITUTION.one(session, values)

    with pytest.raises(exc.IntegrityError) as caught:
        await db.run(command)

    assert isinstance(caught.value.orig, asyncpg.UniqueViolationError)
    assert caught.value.orig.sqlstate == "23505"
    assert await scalar(db, "SELECT count(*) FROM institutions WHERE slug = 'twice'") == 0


@pytest.mark.postgres_only
async def test_a_foreign_key_violation_is_sqlalchemys_integrity_error(db: Database) -> None:
    values = {"user_id": 987654, "kind": "k", "title": "T", "body": "", "link": ""}

    with pytest.raises(exc.IntegrityError) as caught:
        await db.run(lambda s: _WRITE.one(s, values | {"created_at": utcnow()}))

    assert caught.value.orig.sqlstate == "23503"


@pytest.mark.postgres_only
async def test_a_deadlock_in_a_prepared_statement_is_retried(db: Database) -> None:
    lock = Prepared(text("SELECT pg_advisory_xact_lock(:key)"))
    keys = (0x7E57_0001, 0x7E57_0002)
    attempts: list[str] = []
    holding = {"a": asyncio.Event(), "b": asyncio.Event()}

    def locker(name: str, other: str, first: int, second: int) -> Any:
        async def command(session: AsyncSession) -> None:
            attempts.append(name)
            await lock.run(session, {"key": first})
            if not holding[name].is_set():
                holding[name].set()
                await holding[other].wait()
            await lock.run(session, {"key": second})

        return command

    await asyncio.gather(
        db.run(locker("a", "b", keys[0], keys[1])), db.run(locker("b", "a", keys[1], keys[0]))
    )

    # Both committed; PostgreSQL chose one of them, whose 40P01 Database.run retried.
    assert sorted(attempts) in (["a", "a", "b"], ["a", "b", "b"])


@pytest.mark.postgres_only
async def test_a_missing_parameter_is_refused_before_anything_is_sent(
    world: World, db: Database
) -> None:
    admin = await world.admin()
    values = {"user_id": admin.id, "kind": "k", "body": "", "link": "", "created_at": utcnow()}
    async with db.session() as session:
        await session.execute(text("SELECT 1"))  # begun: what follows runs on the driver
        with pytest.raises(exc.InvalidRequestError, match="bind parameter 'title'"):
            await _WRITE.one(session, values)
        # Nothing failed on the server: the transaction goes on.
        written = await _WRITE.one(session, values | {"title": "T"})
        await session.commit()

    assert await _notifications_of(db, admin) == ["T"]
    assert written.title == "T"


@pytest.mark.postgres_only
async def test_a_session_goes_on_after_a_prepared_statement_failed_and_rolled_back(
    db: Database,
) -> None:
    values = {"name": "again", "now": utcnow()}
    async with db.session() as session:
        await _NEW_INSTITUTION.one(session, values)
        with pytest.raises(exc.IntegrityError):
            await _NEW_INSTITUTION.one(session, values)
        await session.rollback()
        await _NEW_INSTITUTION.one(session, values)
        await session.commit()

    assert await scalar(db, "SELECT count(*) FROM institutions WHERE slug = 'again'") == 1


async def test_a_prepared_insert_must_give_the_columns_python_defaults(
    world: World, db: Database
) -> None:
    """SQLAlchemy computes an omitted column's Python-side default (body='', created_at=utcnow)
    as it executes; the driver would send NULL, so such a statement is refused, on both
    backends alike, before anything is sent."""
    admin = await world.admin()
    prepared = Prepared(
        insert(_NOTIFICATIONS)
        .values(user_id=bindparam("user_id"), kind=bindparam("kind"), title=bindparam("title"))
        .returning(_NOTIFICATIONS.c.body, _NOTIFICATIONS.c.created_at)
    )

    with pytest.raises(TypeError, match="Python default"):
        await db.run(lambda s: prepared.one(s, {"user_id": admin.id, "kind": "k", "title": "T"}))
    assert await _notifications_of(db, admin) == []


async def test_a_prepared_write_on_a_connection_rolls_back_with_it(
    world: World, db: Database
) -> None:
    """A connection autobegins with its first statement, whichever way that statement goes."""
    admin = await world.admin()
    values = {"user_id": admin.id, "kind": "k", "title": "T", "body": "", "link": ""}
    async with db.engine.connect() as connection:
        await _WRITE.one(connection, values | {"created_at": utcnow()})
        await connection.rollback()

    assert await _notifications_of(db, admin) == []


@pytest.mark.postgres_only
async def test_a_first_run_on_a_reader_leaves_no_transaction_open(
    world: World, db: Database
) -> None:
    """The first execution learns the columns from the statement it prepares, and runs it to the
    end: a prepare() alone ends with Flush, not Sync, and would leave the server inside an
    implicit transaction holding the statement's locks until the connection is used again."""
    admin = await world.admin()
    lookup = Prepared(select(_INSTITUTIONS.c.slug).where(_INSTITUTIONS.c.id == bindparam("id")))
    activity = text("SELECT state, xact_start FROM pg_stat_activity WHERE pid = :pid")
    async with db.reader() as reader:
        pid = (await reader.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
        row = await lookup.one(reader, {"id": admin.institution_id})
        async with db.session() as other:
            state, xact_start = (await other.execute(activity, {"pid": pid})).one()

    assert row.slug == admin.institution_slug
    assert (state, xact_start) == ("idle", None)


_BACKEND_PID = Prepared(text("SELECT pg_backend_pid() AS pid"))


async def _terminate(db: Database, pid: int) -> None:
    """End backend `pid` from outside, and wait until it is gone."""
    async with db.reader() as reader:
        await reader.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(100):
            alive = await reader.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            if alive.scalar() == 0:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"backend {pid} did not end")


async def test_a_read_gives_the_rows_outside_any_transaction(world: World, db: Database) -> None:
    admin = await world.admin()
    lookup = Prepared(select(_INSTITUTIONS.c.slug).where(_INSTITUTIONS.c.id == bindparam("id")))

    assert [row.slug for row in await db.read(lookup, {"id": admin.institution_id})] == [
        admin.institution_slug
    ]
    assert await db.read(lookup, {"id": -1}) == []


@pytest.mark.postgres_only
async def test_a_pooled_connection_ended_while_idle_is_replaced_before_a_read_or_command(
    db: Database,
) -> None:
    fresh = Database(db.settings)  # pools of its own, holding nothing else
    try:
        [read_first] = await fresh.read(_BACKEND_PID, {})
        command_first = await fresh.run(lambda s: _BACKEND_PID.one(s))
        await _terminate(db, read_first.pid)
        await _terminate(db, command_first.pid)

        [read_second] = await fresh.read(_BACKEND_PID, {})
        command_second = await fresh.run(lambda s: _BACKEND_PID.one(s))
    finally:
        await fresh.dispose()

    assert read_second.pid != read_first.pid
    assert command_second.pid != command_first.pid


@pytest.fixture
async def ends_its_connection_once(db: Database) -> AsyncIterator[Prepared]:
    """A statement whose first run ends its own connection; every later one gives its pid."""
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE SEQUENCE ended_once"))
    yield Prepared(
        text(
            "SELECT pg_backend_pid() AS pid, CASE WHEN nextval('ended_once') = 1"
            " THEN pg_terminate_backend(pg_backend_pid()) END AS ended"
        )
    )
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SEQUENCE ended_once"))


@pytest.mark.postgres_only
async def test_a_read_whose_connection_is_ended_midway_is_read_again_on_another(
    db: Database, ends_its_connection_once: Prepared
) -> None:
    [row] = await db.read(ends_its_connection_once, {})

    assert row.ended is None
    assert await scalar(db, "SELECT last_value FROM ended_once") == 2


@pytest.mark.postgres_only
async def test_a_command_whose_connection_is_ended_before_commit_runs_again_on_another(
    world: World, db: Database, ends_its_connection_once: Prepared
) -> None:
    admin = await world.admin()
    runs = 0

    async def command(session: AsyncSession) -> Any:
        nonlocal runs
        runs += 1
        record_event(
            session, AuditRepaired(invariant="once", row={}), institution_id=admin.institution_id
        )
        return await ends_its_connection_once.one(session)

    row = await db.run(command)

    assert runs == 2
    assert row.ended is None
    once = "SELECT count(*) FROM events WHERE payload->>'invariant' = 'once'"
    assert await scalar(db, once) == 1
