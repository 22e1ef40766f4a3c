"""The engine, sessions, and the edge where a command's transaction commits."""

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

import asyncpg
import pydantic_core
from asyncpg.transaction import Transaction as DriverTransaction
from fastapi import Request
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import greenlet_spawn

from lectern.platform.config import Settings, to_async_url
from lectern.platform.prepared import (
    Prepared,
    as_sqlalchemy_error,
    connection_lost,
    mark_autocommit,
)
from lectern.platform.transaction import CommandSession, Transaction, begin_at_edge
from lectern.platform.unavailable import CommitOutcomeUnknown, DatabaseUnavailable, unreachable

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
MAX_ATTEMPTS = 8
# Connections a command may lose after its BEGIN before it is answered 503. One sweep of
# pg_terminate_backend, a restart or a failover ends the pooled connections one after another,
# and the next one taken may be ending while it is used. Before its BEGIN, or its single read,
# every pooled connection may turn out ended: each is tried, then a fresh one (pool size + 1).
MAX_LOST_CONNECTIONS = 3
# How long the fate of a COMMIT whose answer was lost is asked after, while its server process
# (ended, or ending) has not yet finished the transaction one way or the other.
COMMIT_OUTCOME_WAIT_S = 5.0
_COMMIT_OUTCOME = Prepared(
    text("SELECT pg_xact_status(CAST(CAST(:xid AS text) AS xid8)) AS status")
)


def json_text(value: Any) -> str:
    """JSON columns' serializer (and pydantic_core.from_json their parser): a few times faster
    than the json module on the small documents every command writes and every live page
    reads (events' payloads)."""
    return pydantic_core.to_json(value).decode()


def make_engine(
    url: str, *, pool_size: int = 20, echo: bool = False, autocommit: bool = False
) -> AsyncEngine:
    """An engine for `url`. `autocommit` (PostgreSQL) makes it the isolation level of every
    connection of its pool; SQLite's readers share the writers' engine (see Database)."""
    url = to_async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            json_serializer=json_text,
            json_deserializer=pydantic_core.from_json,
            connect_args={"timeout": 30},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # No overflow: past pool_size, requests wait their turn for a connection instead of each
    # opening one (a new server process) and closing it on return.
    engine = create_async_engine(
        url,
        echo=echo,
        json_serializer=json_text,
        json_deserializer=pydantic_core.from_json,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=30,
        pool_pre_ping=False,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """A pooled connection the server ended while it rested (a restart, a failover) is replaced
    as it is taken: asyncpg notices the closed socket at once, so asking costs no round trip."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server ended this pooled connection")


def _is_retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(orig)


class Database:
    """One per process: the engine, a session factory, and what runs after each commit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url, echo = settings.database_url, settings.database_echo
        self.is_postgres = to_async_url(url).startswith("postgresql")
        if self.is_postgres:
            # Single reads (every request's sign-in check, the event pump) get a share of the
            # connections that stay in autocommit: switching a pooled connection's isolation
            # level at each checkout and back costs more than the read itself.
            readers = max(2, settings.database_pool_size // 4)
            commands = max(1, settings.database_pool_size - readers)
            self.engine = make_engine(url, pool_size=commands, echo=echo)
            self._autocommit = make_engine(url, pool_size=readers, echo=echo, autocommit=True)
            self._begin_tries, self._read_tries = commands + 1, readers + 1
            mark_autocommit(self._autocommit)
        else:
            self.engine = make_engine(url, echo=echo)
            self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._begin_tries, self._read_tries = 1, 1
        # Database.run's commands on PostgreSQL: asyncpg's own transaction, begun and committed
        # here, with SQLAlchemy told to begin nothing (in autocommit it never does).
        self._commands = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=CommandSession
        )
        # A request's reads on PostgreSQL: in autocommit, without the BEGIN and ROLLBACK round
        # trips. Under READ COMMITTED each statement takes its own snapshot in a transaction too.
        self._statement_sessions = (
            async_sessionmaker(self._commands, expire_on_commit=False)
            if self.is_postgres
            else self.sessionmaker
        )
        # SQLite allows one writer; queueing writers here avoids lock-upgrade failures.
        self._write_lock = asyncio.Lock() if not self.is_postgres else None
        self._commit_listeners: list[Callable[[int], None]] = []

    def on_events_committed(self, listener: Callable[[int], None]) -> None:
        """Call `listener(max_event_id)` after a transaction that appended events commits."""
        self._commit_listeners.append(listener)

    @contextlib.asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read: autocommit spares the BEGIN and ROLLBACK round trips."""
        with _reaching():
            async with self._autocommit.connect() as connection:
                yield connection

    async def read(self, statement: Prepared, parameters: Mapping[str, Any]) -> list[Any]:
        """One statement outside any transaction (every request's sign-in check): on PostgreSQL
        straight on a pooled autocommit connection, without a SQLAlchemy Connection around it.
        A read whose connection the server had ended is read again on another."""
        if not self.is_postgres:
            async with self.reader() as reader:
                return await statement.all(reader, parameters)
        for attempt in range(1, self._read_tries + 1):
            try:
                return await self._read_on_driver(statement, parameters)
            except _ConnectionLost as lost:
                if attempt == self._read_tries:
                    raise DatabaseUnavailable() from lost.__cause__
                log.info("reading again after a lost connection (%s)", lost.__cause__)
            except Exception as error:
                if _newly_unreachable(error):
                    raise DatabaseUnavailable() from error
                raise
        raise AssertionError("unreachable")

    async def _read_on_driver(
        self, statement: Prepared, parameters: Mapping[str, Any]
    ) -> list[Any]:
        raw = await self._autocommit.raw_connection()
        driver: Any = raw.driver_connection
        try:
            rows = await statement.on_driver(driver, self._autocommit.dialect, parameters)
        except BaseException as error:
            if not _lost(driver, error):
                raw.close()
                raise
            # Lost, or left mid-statement by a cancellation: never handed out again.
            await greenlet_spawn(raw.invalidate)
            if isinstance(error, DBAPIError):
                raise _ConnectionLost from error
            raise
        # Back to the pool without a greenlet: with no transaction, its reset does no I/O.
        raw.close()
        return rows

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reading in one transaction; whatever it did is rolled back on exit."""
        async with self._read_session(self.sessionmaker) as session:
            yield session

    @contextlib.asynccontextmanager
    async def statement_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reading whose statements each stand alone (autocommit on PostgreSQL):
        a request's reads, which need no SET LOCAL, no lock and no snapshot of their own."""
        async with self._read_session(self._statement_sessions) as session:
            yield session

    @contextlib.asynccontextmanager
    async def _read_session(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[AsyncSession]:
        with _reaching():
            session = sessions()
            try:
                yield session
            finally:
                await _close_read_session(session)

    async def run(self, command: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run a command in one transaction and commit it. It is run again after a serialization
        failure or a deadlock, and again if the server ended its connection before COMMIT
        (nothing of it was saved); a connection lost during COMMIT is CommitOutcomeUnknown."""
        try:
            return await self._run(command)
        except Exception as error:
            if _newly_unreachable(error):
                raise DatabaseUnavailable() from error
            raise

    async def _run(self, command: Callable[[AsyncSession], Awaitable[T]]) -> T:
        attempt, lost_connections = 0, 0
        while True:
            attempt += 1
            try:
                return await self._run_once(command)
            except _ConnectionLost as lost:
                lost_connections += 1
                if lost_connections == MAX_LOST_CONNECTIONS:
                    raise DatabaseUnavailable() from lost.__cause__
                log.info("running a command again after a lost connection (%s)", lost.__cause__)
            except DBAPIError as exc:
                if attempt >= MAX_ATTEMPTS or not _is_retryable(exc):
                    raise
                log.info("retrying command after %s (attempt %d)", exc.orig, attempt)
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311

    async def _run_once(self, command: Callable[[AsyncSession], Awaitable[T]]) -> T:
        if self.is_postgres:
            result, transaction = await self._on_pinned_connection(command)
        else:
            async with self._write_lock or contextlib.nullcontext():
                result, transaction = await self._in_session(command)
        transaction.committed()
        if transaction.last_event_id is not None:
            for listener in self._commit_listeners:
                listener(transaction.last_event_id)
        return result

    async def _in_session(
        self, command: Callable[[AsyncSession], Awaitable[T]]
    ) -> tuple[T, Transaction]:
        async with self.sessionmaker() as session:
            transaction = begin_at_edge(session, None)
            result = await command(session)
            await transaction.before_commit(session)
            await session.commit()
        return result, transaction

    async def _on_pinned_connection(
        self, command: Callable[[AsyncSession], Awaitable[T]]
    ) -> tuple[T, Transaction]:
        """PostgreSQL: the transaction is asyncpg's own, begun here on a pooled connection in
        autocommit, and the command's session is bound to that connection with its Prepared
        statements pinned to the driver. SQLAlchemy, in autocommit, begins and commits nothing:
        what the ORM sends runs in the same transaction, committed here."""
        for _ in range(self._begin_tries):
            try:
                connection = await self._commands.connect()
            except (TimeoutError, SQLAlchemyTimeout):
                raise  # the pool had no connection to spare in time
            except Exception:
                log.info("a new connection failed; taking another", exc_info=True)
                continue
            assert connection.sync_connection is not None
            driver: asyncpg.Connection = connection.sync_connection.connection.driver_connection
            begun = driver.transaction()
            try:
                await begun.start()
            except BaseException as error:
                await _drop(connection)
                if isinstance(error, Exception):
                    log.info("BEGIN failed on a pooled connection; taking another (%s)", error)
                    continue  # ended by the server before the pool noticed
                raise
            try:
                return await self._pinned(command, connection, driver, begun)
            except BaseException as error:
                cause = error.__cause__ if isinstance(error, CommitOutcomeUnknown) else error
                lost = cause is not None and _lost(driver, cause)
                await _abandon(connection, driver, begun, lost)
                if lost and isinstance(error, DBAPIError):
                    raise _ConnectionLost from error  # before COMMIT: nothing of it was saved
                raise
        raise DatabaseUnavailable("Every connection tried had been ended by the server.")

    async def _pinned(
        self,
        command: Callable[[AsyncSession], Awaitable[T]],
        connection: AsyncConnection,
        driver: asyncpg.Connection,
        begun: DriverTransaction,
    ) -> tuple[T, Transaction]:
        session = self.sessionmaker(bind=connection)
        transaction = begin_at_edge(session, driver)
        result = await command(session)
        await transaction.before_commit(session)
        if session.in_transaction():
            await session.commit()  # flushes; in autocommit it sends no COMMIT
        if await self._commit(transaction, driver, begun):
            await connection.invalidate()  # committed, as the server says, but lost
        await connection.close()
        return result, transaction

    async def _commit(
        self,
        transaction: Transaction,
        driver: asyncpg.Connection,
        begun: DriverTransaction,
    ) -> bool:
        """COMMIT; whether the connection was lost doing it, after the server committed. If the
        driver knew it closed before COMMIT could be sent (the server ended it while the command
        ran its Python), nothing was saved and the command may run again. Otherwise the
        transaction's id, where a statement took it (an event's announcement), tells on a fresh
        connection: aborted, it may run again; committed, it is answered; else it is unknown."""
        closed_before = driver.is_closed()
        try:
            await begun.commit()
            return False
        except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as e:
            error = as_sqlalchemy_error(e, "COMMIT", ())
            if closed_before or not connection_lost(driver, error):
                raise error from e
            outcome = await self._commit_outcome(transaction.xid)
            log.info("COMMIT of transaction %s lost its connection: %s", transaction.xid, outcome)
            if outcome == "aborted":
                raise error from e  # nothing of it was saved: the command may run again
            if outcome != "committed":
                raise CommitOutcomeUnknown from error
            return True

    async def _commit_outcome(self, xid: int | None) -> str | None:
        """'committed' or 'aborted' once the server has ended transaction `xid`; None if its id
        is unknown, or if it cannot be asked in time."""
        if xid is None:
            return None
        deadline = asyncio.get_running_loop().time() + COMMIT_OUTCOME_WAIT_S
        while True:
            try:
                [row] = await self.read(_COMMIT_OUTCOME, {"xid": str(xid)})
            except Exception:
                log.warning("could not ask whether transaction %s committed", xid, exc_info=True)
                return None
            if row.status != "in progress":
                return str(row.status) if row.status else None
            if asyncio.get_running_loop().time() > deadline:
                return None
            await asyncio.sleep(0.02)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._autocommit.pool is not self.engine.pool:
            await self._autocommit.dispose()


async def _close_read_session(session: AsyncSession) -> None:
    """Roll back and return the connection, or drop it if it cannot: with its reads done (a
    response may be on its way), a connection the server ended meanwhile is nobody's error."""
    try:
        await session.close()
    except DBAPIError:
        log.info("a read session's connection could not roll back; dropped", exc_info=True)
        await session.invalidate()


class _ConnectionLost(Exception):
    """The server ended the connection of a read or of a command before its COMMIT."""


def _lost(driver: Any, error: BaseException) -> bool:
    """Whether a connection that raised `error` must never be handed out again: the server
    ended it, or a cancellation left it in the middle of a statement."""
    if not isinstance(error, Exception):
        return True
    return isinstance(error, DBAPIError) and connection_lost(driver, error)


def _newly_unreachable(error: Exception) -> bool:
    """Whether `error` says the database could not be reached, and is not yet said so."""
    return not isinstance(error, DatabaseUnavailable) and unreachable(error)


@contextlib.contextmanager
def _reaching() -> Iterator[None]:
    """Errors that say the database could not be reached become DatabaseUnavailable."""
    try:
        yield
    except Exception as error:
        if _newly_unreachable(error):
            raise DatabaseUnavailable() from error
        raise


async def _abandon(
    connection: AsyncConnection, driver: asyncpg.Connection, begun: DriverTransaction, lost: bool
) -> None:
    """Roll back a command's transaction and return its connection; one lost, or left in the
    middle of a statement (a cancellation), is never handed out again."""
    if not lost and driver.is_in_transaction():
        try:
            await begun.rollback()
        except Exception:
            log.warning("a command's connection could not roll back; dropped", exc_info=True)
            lost = True
    if lost:
        await _drop(connection)
    else:
        await connection.close()


async def _drop(connection: AsyncConnection) -> None:
    """Close a connection the pool must not hand out again."""
    if not connection.invalidated:
        await connection.invalidate()
    await connection.close()


def insert_of(dialect_name: str) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both PostgreSQL and SQLite."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def insert_for(session: AsyncSession) -> Any:
    return insert_of(session.get_bind().dialect.name)


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_database(request: Request) -> Database:
    """The dependency; async, since FastAPI would run a plain function in a worker thread."""
    return database_of(request)


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A dependency for handlers that only read."""
    async with database_of(request).statement_session() as session:
        yield session
