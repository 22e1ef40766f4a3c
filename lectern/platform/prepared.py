"""Statements built once with SQLAlchemy Core and, on PostgreSQL, run straight on asyncpg.

On the hot paths (every request's sign-in, every enrollment command) SQLAlchemy's execution of
an already compiled statement costs about three times what the driver takes for the round trip
itself: the greenlet hop, parameter and result-metadata processing, the cursor adapter. A
`Prepared` statement keeps what SQLAlchemy is good at (the statement is built from the models'
tables, compiled once per dialect, with each type's own bind and result processing) and hands
the compiled SQL to asyncpg on the connection, and inside the transaction, that the session or
connection already holds. Nothing else changes: the session still commits at the edge, and
errors arrive as SQLAlchemy's.

Where a statement runs: in a command of Database.run (PostgreSQL), on the driver connection its
Transaction is pinned to, whose transaction Database.run began; on a connection of an engine in
autocommit (`mark_autocommit`), on the driver at once; in another session or connection, on the
driver once SQLAlchemy has begun its transaction there (its first statement goes through
SQLAlchemy, which begins lazily with it). On SQLite every statement goes through SQLAlchemy.
Rows are named tuples on both.
"""

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, exc
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from lectern.platform.transaction import transaction_of

Executor = AsyncSession | AsyncConnection
Processor = Callable[[Any], Any]
Build = Callable[[str], Executable]
AUTOCOMMIT = "lectern_autocommit"


@dataclass(slots=True)
class _Compiled:
    """A statement compiled for PostgreSQL: its SQL, and how its values go in and come out."""

    sql: str
    names: tuple[str, ...]  # of its parameters, in their order
    fixed: dict[str, Any]  # the values the statement carries (`.values(status="active")`)
    binds: tuple[Processor | None, ...]
    dialect: Dialect
    result_types: tuple[Any, ...]
    row: Any = None  # a named tuple type, known after the first execution
    results: tuple[tuple[int, Processor], ...] = ()


class Prepared:
    """One statement: `build` is the statement itself, or a function of the dialect's name
    that builds it (for INSERT ... ON CONFLICT, whose construct differs per dialect)."""

    def __init__(self, build: Executable | Build) -> None:
        self._build = build
        self._statements: dict[str, Executable] = {}
        self._compiled: _Compiled | None = None
        self._rows: dict[str, Any] = {}
        self._checked: set[str] = set()  # dialects whose compilation passed `_compiled_for`

    def statement(self, dialect_name: str) -> Executable:
        statement = self._statements.get(dialect_name)
        if statement is None:
            build = self._build
            statement = build if isinstance(build, Executable) else build(dialect_name)
            self._statements[dialect_name] = statement
        return statement

    def _compiled_for(self, dialect: Dialect) -> SQLCompiler:
        statement = self.statement(dialect.name)
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            # SQLAlchemy computes those values as it executes; the driver would send NULL.
            raise TypeError("a Prepared statement gives every column with a Python default")
        self._checked.add(dialect.name)
        return compiled

    async def all(
        self, executor: Executor, parameters: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """Every row, each a named tuple of the statement's columns."""
        driver = await _driver_of(executor)
        if driver is None:
            return await self._through_sqlalchemy(executor, parameters or {})
        compiled = self._compiled or self._compile(_bind_of(executor).dialect)
        try:
            return await _fetch(driver, compiled, parameters or {})
        except exc.DBAPIError as error:
            if connection_lost(driver, error):  # the pool must not hand it out again
                await _invalidate(executor)
            raise

    async def on_driver(
        self, driver: asyncpg.Connection, dialect: Dialect, parameters: Mapping[str, Any]
    ) -> list[Any]:
        """Run on an asyncpg connection the caller holds (PostgreSQL), in whatever transaction
        it is in; the caller deals with a lost connection."""
        return await _fetch(driver, self._compiled or self._compile(dialect), parameters)

    async def run(self, executor: Executor, parameters: Mapping[str, Any] | None = None) -> None:
        """Execute it for its effect (a lock, a write), whatever it returns."""
        await self.all(executor, parameters)

    async def one_or_none(
        self, executor: Executor, parameters: Mapping[str, Any] | None = None
    ) -> Any | None:
        rows = await self.all(executor, parameters)
        if len(rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return rows[0] if rows else None

    async def one(self, executor: Executor, parameters: Mapping[str, Any] | None = None) -> Any:
        row = await self.one_or_none(executor, parameters)
        if row is None:
            raise exc.NoResultFound("No row was found when one was required")
        return row

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled_for(dialect)
        names = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in names]
        if any(bind.expanding or bind.callable is not None for bind in binds):
            raise TypeError("a Prepared statement takes plain parameters: no IN list, no callable")
        self._compiled = _Compiled(
            sql=str(compiled),
            names=names,
            fixed={
                name: bind.value
                for name, bind in zip(names, binds, strict=True)
                if not bind.required
            },
            binds=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds),
            dialect=dialect,
            result_types=tuple(
                column.type
                for column in getattr(self.statement(dialect.name), "exported_columns", ())
            ),
        )
        return self._compiled

    async def _through_sqlalchemy(
        self, executor: Executor, parameters: Mapping[str, Any]
    ) -> list[Any]:
        dialect = _bind_of(executor).dialect
        if dialect.name not in self._checked:
            self._compiled_for(dialect)  # the same refusals as on the driver
        result = await executor.execute(self.statement(dialect.name), parameters)
        if isinstance(result, CursorResult) and not result.returns_rows:
            return []
        row: Any = self._rows.get(dialect.name)
        if row is None:
            row = self._rows[dialect.name] = namedtuple("Row", list(result.keys()), rename=True)
        return [row._make(values) for values in result]


async def _fetch(
    driver: asyncpg.Connection, compiled: _Compiled, parameters: Mapping[str, Any]
) -> list[Any]:
    arguments = _arguments(compiled, parameters)
    try:
        if compiled.row is None:
            statement = await driver.prepare(compiled.sql)
            _learn_columns(compiled, statement.get_attributes())
            records = await statement.fetch(*arguments)
        else:
            records = await driver.fetch(compiled.sql, *arguments)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError) as error:
        raise as_sqlalchemy_error(error, compiled.sql, arguments) from error
    return _rows(compiled, records)


def connection_lost(driver: asyncpg.Connection, error: exc.DBAPIError) -> bool:
    """Whether the connection is past use: closed, ended by the server, or its protocol left
    in a state only the driver's own errors report (anything but an error about the statement,
    which carries a SQLSTATE: asyncpg's own, or the one SQLAlchemy's adapter copies)."""
    if driver.is_closed() or error.connection_invalidated:
        return True
    sqlstate: str = getattr(error.orig, "sqlstate", None) or ""
    return not sqlstate or sqlstate.startswith(("08", "57P"))


async def _invalidate(executor: Executor) -> None:
    if isinstance(executor, AsyncSession) and transaction_of(executor).driver is not None:
        return  # its connection belongs to whoever pinned it, who sees the error and drops it
    connection = await executor.connection() if isinstance(executor, AsyncSession) else executor
    await connection.invalidate()


def _arguments(compiled: _Compiled, parameters: Mapping[str, Any]) -> list[Any]:
    arguments = []
    for name, process in zip(compiled.names, compiled.binds, strict=True):
        if name in parameters:
            value = parameters[name]
        elif name in compiled.fixed:
            value = compiled.fixed[name]
        else:
            raise exc.InvalidRequestError(f"A value is required for bind parameter {name!r}")
        arguments.append(value if process is None else process(value))
    return arguments


def _bind_of(executor: Executor) -> Any:
    return executor.get_bind() if isinstance(executor, AsyncSession) else executor


async def _driver_of(executor: Executor) -> asyncpg.Connection | None:
    """The asyncpg connection to run on, or None where the statement must go through
    SQLAlchemy: not PostgreSQL, or a transaction SQLAlchemy holds but could not begin here."""
    if isinstance(executor, AsyncSession):
        return await _driver_of_session(executor)
    if executor.dialect.name != "postgresql":
        return None
    raw = await executor.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if driver.is_in_transaction() or raw.info.get(AUTOCOMMIT):
        return driver
    return None  # SQLAlchemy begins the transaction with it, or knows it needs none


def mark_autocommit(engine: AsyncEngine) -> None:
    """Tell Prepared statements that `engine`'s connections are all in autocommit, so that one
    may run straight on the driver of a connection that has begun nothing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _autocommit(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[AUTOCOMMIT] = True


async def _driver_of_session(session: AsyncSession) -> asyncpg.Connection | None:
    if (pinned := transaction_of(session).driver) is not None:
        return pinned
    if session.get_bind().dialect.name != "postgresql":
        return None
    connection = (await session.connection()).sync_connection
    assert connection is not None
    driver: asyncpg.Connection = connection.connection.driver_connection
    return driver if driver.is_in_transaction() else None


def as_sqlalchemy_error(error: Exception, sql: str, arguments: Sequence[Any]) -> exc.DBAPIError:
    """The error SQLAlchemy would have raised: callers tell retryable failures and lost races
    by SQLAlchemy's classes and the SQLSTATE on `orig`."""
    sqlstate = getattr(error, "sqlstate", None) or ""
    kind: type[exc.DBAPIError] = exc.DBAPIError
    if sqlstate.startswith("23"):
        kind = exc.IntegrityError
    elif sqlstate.startswith(("40", "53", "57", "08")):
        kind = exc.OperationalError
    elif sqlstate.startswith("42"):
        kind = exc.ProgrammingError
    return kind(sql, tuple(arguments), error)


def _learn_columns(compiled: _Compiled, attributes: Sequence[Any]) -> None:
    """The row type and result processors, from the columns PostgreSQL describes (a numeric
    type's processing depends on which one the server sends)."""
    types = compiled.result_types or (None,) * len(attributes)
    results = []
    for index, (attribute, type_) in enumerate(zip(attributes, types, strict=True)):
        if type_ is None:
            continue
        dialect = compiled.dialect
        process = type_.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
        if process is not None:
            results.append((index, process))
    compiled.results = tuple(results)
    compiled.row = namedtuple("Row", [a.name for a in attributes], rename=True)  # type: ignore[misc]


def _rows(compiled: _Compiled, records: Sequence[asyncpg.Record]) -> list[Any]:
    row = compiled.row
    assert row is not None
    if not compiled.results:
        return [row._make(record) for record in records]
    rows = []
    for record in records:
        values = list(record)
        for index, process in compiled.results:
            values[index] = process(values[index])
        rows.append(row._make(values))
    return rows
