"""Reading the legacy platform's database (PostgreSQL, or MySQL/MariaDB) into its tables' rows
(`legacy_rows`).

Every value is read as the planner expects it whatever the dialect: ids as lower-case text,
JSON parsed, numbers as float, timestamps as UTC-aware datetimes (MariaDB's DATETIME is
naive, and taken as UTC).
"""

import contextlib
import json
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.types.numeric import FloatLoader
from psycopg.types.string import TextLoader
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lectern.importing.legacy_rows import ROWS, TABLES
from lectern.importing.plan import Legacy, cycle_collection_paused

ID_COLUMNS = {"id", "reviewed_by"}
JSON_COLUMNS = {"options", "answers", "completed_chapters", "watched_videos"}
NUMBER_COLUMNS = {"price", "progress", "total_progress", "amount", "watched_seconds", "score",
                  "pass_mark"}  # fmt: skip
TIME_COLUMNS = {"created_at", "updated_at", "enrolled_at", "completed_at", "last_accessed",
                "reviewed_at"}  # fmt: skip
FLAG_COLUMNS = {"requires_approval", "is_default_unlocked", "completed", "passed", "is_correct"}
# Tables whose queries the server answers ahead of the one being read.
READ_AHEAD = 3
# Rows taken at a time while reading: one round trip on MySQL, one progress step on both.
FETCH_ROWS = 10_000
# PostgreSQL types whose values psycopg already loads as the planner expects them (with uuid
# and numeric loaded as text and float, and the session in UTC), by the kind of column.
AS_EXPECTED = {
    "id": {"uuid"},
    "json": {"json", "jsonb"},
    "number": {"numeric", "float8", "float4", "int2", "int4", "int8"},
    "time": {"timestamptz"},
    "flag": {"bool"},
}

Progress = Callable[[str, int], None]


class SharedJsonLoader(Loader):
    """JSON values parsed once per distinct text: the legacy columns repeat a few values (the
    same answers, the same chapter lists) across hundreds of thousands of rows. Rows with equal
    text share one parsed value, which the planner reads and never changes."""

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self.parsed: dict[bytes, Any] = {}

    def load(self, data: Buffer) -> Any:
        text = bytes(data)
        if (value := self.parsed.get(text)) is None:
            value = self.parsed[text] = json.loads(text.decode())
        return value


class SourceError(Exception):
    """The legacy database cannot be read as it is: said in one line."""


def source_engine(url: str) -> Engine:
    """An engine on the legacy database, through psycopg or PyMySQL."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise SourceError(f"not a database URL: {url!r}") from error
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend in {"mysql", "mariadb"}:
        parsed = parsed.set(drivername=f"{backend}+pymysql")
    else:
        raise SourceError(f"the legacy database must be PostgreSQL or MySQL/MariaDB, not {backend}")
    return create_engine(parsed, pool_pre_ping=False)


def described(url: str) -> str:
    """The source's URL without its password, as the report shows it."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _as_id(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip().lower() if not isinstance(value, uuid.UUID) else str(value)


def _as_json(value: Any) -> Any:
    if isinstance(value, (bytes, str)):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _as_number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_time(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _kind(column: str) -> str:
    if column in ID_COLUMNS or column.endswith("_id"):
        return "id"
    if column in JSON_COLUMNS:
        return "json"
    if column in NUMBER_COLUMNS:
        return "number"
    if column in TIME_COLUMNS:
        return "time"
    if column in FLAG_COLUMNS:
        return "flag"
    return "text"


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "id": _as_id,
    "json": _as_json,
    "number": _as_number,
    "time": _as_time,
    "flag": lambda v: None if v is None else bool(v),
    "text": lambda v: v,
}


def _converter(column: str) -> Callable[[Any], Any]:
    return CONVERTERS[_kind(column)]


def check_schema(engine: Engine) -> None:
    """Every table and column the import reads is there, or SourceError names what is not."""
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            tables = set(inspector.get_table_names())
            for table, columns in TABLES.items():
                if table not in tables:
                    raise SourceError(f"the legacy database has no table {table!r}")
                present = {c["name"] for c in inspector.get_columns(table)}
                if missing := [c for c in columns if c not in present]:
                    raise SourceError(f"legacy table {table!r} has no column {missing[0]!r}")
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise SourceError(f"cannot reach the legacy database: {reason}") from error


def read_legacy(url: str, progress: Progress | None = None) -> Legacy:
    """Every legacy table the import needs, as lists of its rows (`legacy_rows`)."""
    with cycle_collection_paused():
        return _read(url, progress)


def _read(url: str, progress: Progress | None) -> Legacy:
    engine = source_engine(url)
    try:
        check_schema(engine)
        if engine.dialect.name == "postgresql":
            return _read_postgresql(engine.url, progress)
        legacy: Legacy = {}
        with engine.connect() as connection:
            for table, columns in TABLES.items():
                convert = [_converter(c) for c in columns]
                result = connection.execution_options(yield_per=FETCH_ROWS).execute(
                    text(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
                )
                rows = legacy[table] = []
                row_type = ROWS[table]
                for chunk in result.partitions():
                    rows.extend(
                        row_type(*(f(v) for f, v in zip(convert, row, strict=True)))
                        for row in chunk
                    )
                    if progress:
                        progress(table, len(chunk))
        return legacy
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise SourceError(f"cannot read the legacy database: {reason}") from error
    finally:
        engine.dispose()


def _read_postgresql(url: Any, progress: Progress | None) -> Legacy:
    """Every table through psycopg itself, each in one round trip (a client-side cursor). The
    server answers the next READ_AHEAD tables' queries, each on a connection of its own, while
    this table's rows become dicts: it takes longer over some tables than Python over them."""
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    tables = list(TABLES.items())
    legacy: Legacy = {}
    try:
        with contextlib.ExitStack() as stack:
            connections = [stack.enter_context(_connect(dsn)) for _ in range(READ_AHEAD + 1)]
            ahead = stack.enter_context(ThreadPoolExecutor(READ_AHEAD))

            def query(n: int) -> psycopg.Cursor[Any]:
                table, columns = tables[n]
                cursor = connections[n % len(connections)].cursor()
                return cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608

            pending = deque(ahead.submit(query, n) for n in range(min(READ_AHEAD, len(tables))))
            for n, (table, columns) in enumerate(tables):
                cursor = pending.popleft().result()
                if n + READ_AHEAD < len(tables):
                    pending.append(ahead.submit(query, n + READ_AHEAD))
                with cursor:
                    legacy[table] = _rows(table, columns, cursor, progress)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0]
        raise SourceError(f"cannot read the legacy database: {reason}") from error
    return legacy


def _connect(dsn: str) -> psycopg.Connection[Any]:
    """A connection whose values load as the planner expects them: uuid as text, numeric as
    float, timestamps in UTC, each JSON text parsed once."""
    connection = psycopg.connect(dsn, options="-c TimeZone=UTC")
    connection.adapters.register_loader("uuid", TextLoader)
    connection.adapters.register_loader("numeric", FloatLoader)
    for json_type in ("json", "jsonb"):
        connection.adapters.register_loader(json_type, SharedJsonLoader)
    return connection


def _rows(
    table: str, columns: tuple[str, ...], cursor: psycopg.Cursor[Any], progress: Progress | None
) -> list[Any]:
    """The result's rows as the table's row type, converting in Python only the columns whose
    type is not the legacy schema's: the rest load as the planner expects them."""
    types = cursor.connection.adapters.types
    assert cursor.description is not None
    convert = [
        (n, CONVERTERS[kind])
        for n, (column, found) in enumerate(zip(columns, cursor.description, strict=True))
        if (kind := _kind(column)) != "text"
        and getattr(types.get(found.type_code), "name", None) not in AS_EXPECTED[kind]
    ]
    # The row type made from each row's values as tuple() would be (the SELECT names its
    # columns in order): through map(), without a Python frame per row.
    made = partial(tuple.__new__, ROWS[table])
    rows: list[Any] = []
    while chunk := cursor.fetchmany(FETCH_ROWS):
        if convert:
            chunk = [_converted(row, convert) for row in chunk]
        rows.extend(map(made, chunk))
        if progress:
            progress(table, len(chunk))
    return rows


def _converted(row: tuple[Any, ...], convert: list[tuple[int, Callable[[Any], Any]]]) -> Any:
    values = list(row)
    for n, function in convert:
        values[n] = function(values[n])
    return values
