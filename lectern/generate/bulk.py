"""Writing generated rows in bulk: COPY on PostgreSQL, batched executemany on SQLite.

Ids are chosen by the generator (rows refer to each other before they are written), so the
writer first reserves the next id of each table and afterwards moves each PostgreSQL sequence
past the last one used; SQLite's AUTOINCREMENT follows explicit ids by itself.
"""

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lectern.models import Base

# In the order their foreign keys need them.
TABLES = (
    "institutions",
    "users",
    "student_profiles",
    "courses",
    "chapters",
    "lessons",
    "qbank_questions",
    "enrollments",
    "lesson_progress",
    "quiz_attempts",
    "qbank_tests",
    "qbank_test_questions",
    "access_requests",
    "payments",
    "certificates",
    "notifications",
    "events",
)
# Tables whose rows get an id from a sequence (or SQLite's AUTOINCREMENT).
ID_TABLES = tuple(
    name
    for name in TABLES
    if "id" in Base.metadata.tables[name].c and Base.metadata.tables[name].c.id.primary_key
)
SQLITE_BATCH = 5_000


def _is_postgres(connection: AsyncConnection) -> bool:
    return connection.dialect.name == "postgresql"


async def reserve_ids(connection: AsyncConnection) -> dict[str, int]:
    """The first id the generator may give each table's rows."""
    first: dict[str, int] = {}
    for name in ID_TABLES:
        if _is_postgres(connection):
            query = f"SELECT nextval(pg_get_serial_sequence('{name}', 'id'))"
        else:
            sequence = "(SELECT seq FROM sqlite_sequence WHERE name = :name)"
            largest = f"(SELECT max(id) FROM {name})"  # noqa: S608 - a name from ID_TABLES
            query = f"SELECT max(coalesce({sequence}, 0), coalesce({largest}, 0)) + 1"
        first[name] = int((await connection.execute(text(query), {"name": name})).scalar_one())
    return first


async def settle_ids(connection: AsyncConnection, used: dict[str, int]) -> None:
    """Move each sequence past the ids the generator gave, so commands continue after them."""
    if not _is_postgres(connection):
        return
    for name, last in used.items():
        await connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :last)"), {"last": last}
        )


def _completed(table: Table, rows: list[dict[str, Any]]) -> list[str]:
    """The columns to write: the rows' own and any other NOT NULL one, filled by its default."""
    columns = list(rows[0])
    for column in table.c:
        if column.name in columns or column.nullable or column.server_default is not None:
            continue
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            continue
        value = default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
        for row in rows:
            row[column.name] = value
        columns.append(column.name)
    return columns


async def write_rows(connection: AsyncConnection, name: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = Base.metadata.tables[name]
    columns = _completed(table, rows)
    if not _is_postgres(connection):
        for start in range(0, len(rows), SQLITE_BATCH):
            await connection.execute(insert(table), rows[start : start + SQLITE_BATCH])
        return
    as_json = {c.name for c in table.c if isinstance(c.type, JSON)}
    records = [
        tuple(json.dumps(row[c]) if c in as_json else row[c] for c in columns) for row in rows
    ]
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(name, records=records, columns=columns)  # type: ignore[union-attr]


async def write_batch(connection: AsyncConnection, rows: dict[str, list[dict[str, Any]]]) -> None:
    for name in TABLES:
        await write_rows(connection, name, rows.get(name, []))


async def write_question_statistics(
    connection: AsyncConnection, counts: Sequence[tuple[int, int, int]]
) -> None:
    """Each (question id, attempts, correct): the statistics of the finished tests' answers."""
    if not counts:
        return
    questions = Base.metadata.tables["qbank_questions"]
    statement = (
        update(questions)
        .where(questions.c.id == bindparam("question"))
        .values(attempts=bindparam("attempts"), correct=bindparam("right"))
    )
    await connection.execute(
        statement,
        [{"question": q, "attempts": attempts, "right": right} for q, attempts, right in counts],
    )
