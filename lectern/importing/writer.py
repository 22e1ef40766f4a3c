"""Writing a plan in bulk, in one transaction: COPY on PostgreSQL, multi-row inserts on SQLite.

Rows refer to each other by plan keys until written. On PostgreSQL each table's new ids are
drawn from its sequence in one statement before its COPY, so the keys resolve without reading
anything back; on SQLite they come back from INSERT … RETURNING, in parameter order.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import JSON, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lectern.importing.plan import Plan, Ref, Row, cycle_collection_paused
from lectern.models import Base, LegacyId, QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.enums import QbankTestStatus
from lectern.platform.db import insert_for

# In the order foreign keys need them: each table's references and the tables they name.
REFERENCES: dict[str, dict[str, str]] = {
    "institutions": {},
    "users": {"institution_id": "institutions"},
    "student_profiles": {"user_id": "users"},
    "courses": {"institution_id": "institutions"},
    "chapters": {"course_id": "courses"},
    "lessons": {"chapter_id": "chapters", "course_id": "courses"},
    "qbank_questions": {"course_id": "courses"},
    "enrollments": {"user_id": "users", "course_id": "courses"},
    "lesson_progress": {"enrollment_id": "enrollments", "lesson_id": "lessons"},
    "quiz_attempts": {"enrollment_id": "enrollments", "lesson_id": "lessons"},
    "qbank_tests": {"enrollment_id": "enrollments"},
    "qbank_test_questions": {"test_id": "qbank_tests", "question_id": "qbank_questions"},
    "access_requests": {"user_id": "users", "course_id": "courses", "reviewer_id": "users"},
    "payments": {"institution_id": "institutions", "user_id": "users", "course_id": "courses"},
    "certificates": {"enrollment_id": "enrollments", "user_id": "users", "course_id": "courses"},
}
LINK_COLUMNS = ("legacy_table", "legacy_id", "lectern_id", "import_id")
# Rows per INSERT statement on SQLite, and per statement of the Q-bank recount.
BATCH = 5_000

Ids = dict[str, dict[str, int]]


class Resolver:
    def __init__(self) -> None:
        self.ids: Ids = defaultdict(dict)

    def __call__(self, table: str, ref: Ref | None) -> int | None:
        if ref is None or isinstance(ref, int):
            return ref
        return self.ids[table][ref]


def _resolving(ids: dict[str, int]) -> Callable[[Any], Any]:
    """A plan reference into its Lectern id: ints (rows that existed) and None stay."""

    def resolve(ref: Any) -> Any:
        return ids[ref] if isinstance(ref, str) else ref

    return resolve


def _with_defaults(table: Table, columns: list[str]) -> dict[str, Any]:
    """The value of each NOT NULL column the plan leaves out, from the model's scalar or
    callable default (COPY and executemany get no ORM defaults)."""
    filled: dict[str, Any] = {}
    for column in table.c:
        if column.name in columns or column.nullable or column.primary_key:
            continue
        default = column.default
        if default is None or not (default.is_scalar or default.is_callable):
            continue
        filled[column.name] = default.arg if default.is_scalar else default.arg(None)  # type: ignore[attr-defined]
    return filled


def _json_text(value: Any) -> str:
    """A value as JSON text; an empty list (what most learners watched of a video's lesson
    progress) without a call to the encoder, which costs more than the rest of the row."""
    return "[]" if value == [] else json.dumps(value)


class _Table:
    """One table's planned rows as the values to write, with the references resolved."""

    def __init__(self, name: str, rows: list[Row], resolve: Resolver) -> None:
        self.name, self.table = name, Base.metadata.tables[name]
        self.keyed = "key" in rows[0]
        own = [c for c in rows[0] if c != "key"]
        self.own = itemgetter(*own)
        self.filled = _with_defaults(self.table, own)
        self.columns = own + list(self.filled)
        references = REFERENCES[name]
        as_json = {c.name for c in self.table.c if isinstance(c.type, JSON)}
        self.convert: list[tuple[int, Callable[[Any], Any]]] = [
            (n, _resolving(resolve.ids[references[c]]))
            for n, c in enumerate(own)
            if c in references
        ]
        self.json = [n for n, c in enumerate(own) if c in as_json]
        self.copied_defaults = [
            json.dumps(value) if c in as_json else value for c, value in self.filled.items()
        ]

    def values(self, row: Row) -> list[Any]:
        values = list(self.own(row))
        for n, convert in self.convert:
            values[n] = convert(values[n])
        values.extend(self.filled.values())
        return values

    def copy_records(self, rows: list[Row], new_ids: Iterable[int] | None) -> Iterator[list[Any]]:
        """The rows' values as COPY takes them, in one pass: the new id first where the rows
        are keyed, references resolved, JSON as its text."""
        leads: Iterable[tuple[int, ...]] = (
            repeat((), len(rows)) if new_ids is None else zip(new_ids)
        )
        shift = 0 if new_ids is None else 1
        convert = [(n + shift, f) for n, f in self.convert]
        convert += [(n + shift, _json_text) for n in self.json]
        get, defaults = self.own, self.copied_defaults
        for lead, row in zip(leads, rows, strict=True):
            values = [*lead, *get(row), *defaults]
            for n, function in convert:
                values[n] = function(values[n])
            yield values


async def write_plan(session: AsyncSession, plan: Plan, import_id: int) -> Resolver:
    """Insert every planned row and the legacy-id links; the keys' new ids."""
    with cycle_collection_paused():
        return await _write_plan(session, plan, import_id)


async def _write_plan(session: AsyncSession, plan: Plan, import_id: int) -> Resolver:
    resolve = Resolver()
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    copying = isinstance(driver, asyncpg.Connection)
    for name in REFERENCES:
        rows = plan.rows.get(name)
        if not rows:
            continue
        if copying:
            assert isinstance(driver, asyncpg.Connection)
            await _copy_table(session, driver, _Table(name, rows, resolve), rows, resolve)
        else:
            await _insert_table(session, _Table(name, rows, resolve), rows, resolve)
    ids = resolve.ids
    links = (
        (legacy_table, legacy_id, ids[entity][ref] if isinstance(ref, str) else ref, import_id)
        for legacy_table, legacy_id, entity, ref in sorted(plan.links, key=_link_order)
    )
    if copying:
        assert isinstance(driver, asyncpg.Connection)
        await driver.copy_records_to_table("legacy_ids", records=links, columns=LINK_COLUMNS)
    else:
        values = [dict(zip(LINK_COLUMNS, link, strict=True)) for link in links]
        await _insert(session, insert(LegacyId), values)
    await recount_questions(session, [resolve("qbank_questions", q) for q in plan.questions])
    return resolve


def _link_order(link: tuple[str, str, str, Ref]) -> str:
    """A link's place in the links' key (legacy table, legacy id) as PostgreSQL orders the ids'
    ASCII text in a C or C.UTF-8 database: the key built after a bulk load then finds its rows
    in order and checks them in one pass instead of sorting them. One string, as a tuple is
    several times slower to sort in Python."""
    return f"{link[0]}\0{link[1]}"


async def _copy_table(
    session: AsyncSession, driver: asyncpg.Connection, table: _Table, rows: list[Row],
    resolve: Resolver,
) -> None:  # fmt: skip
    columns = table.columns
    if table.name == "lesson_progress":
        rows = await _facts_of_existing_enrollments(session, table, rows)
    new_ids = None
    if table.keyed:
        new_ids = await _new_ids(driver, table.name, len(rows))
        keys = resolve.ids[table.name]
        for row, new_id in zip(rows, new_ids, strict=True):
            keys[row["key"]] = new_id
        columns = ["id", *columns]
    records = table.copy_records(rows, new_ids)
    await driver.copy_records_to_table(table.name, records=records, columns=columns)


# Ids drawn one nextval each below this many rows; a range of the sequence at or above it.
ID_RANGE_ROWS = 1_000
# Moves the sequence past `n` ids in one call and returns the last: the range is its own
# while the table is locked against inserts, the only other users of its sequence.
RESERVE_IDS = (
    "SELECT setval(pg_get_serial_sequence($1, 'id'),"
    " nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)"
)


async def _new_ids(driver: asyncpg.Connection, table: str, n: int) -> range | list[int]:
    """`n` new ids for the table's rows. Many are reserved as one range of its sequence, under
    a lock that keeps out other inserts until the import commits (a bulk load holds stronger
    ones already); a few are drawn one by one, as inserts beside the import would draw them."""
    if n < ID_RANGE_ROWS:
        ids: list[int] = await driver.fetchval(
            "SELECT array(SELECT nextval(pg_get_serial_sequence($1, 'id'))"
            " FROM generate_series(1, $2))",
            table,
            n,
        )
        return ids
    await driver.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    last: int = await driver.fetchval(RESERVE_IDS, table, n)
    return range(last - n + 1, last + 1)


async def _facts_of_existing_enrollments(
    session: AsyncSession, table: _Table, rows: list[Row]
) -> list[Row]:
    """Inserts the facts of enrollments Lectern already had, never overwriting what it holds;
    the facts of new enrollments, left for COPY."""
    existing = [row for row in rows if isinstance(row["enrollment_id"], int)]
    if existing:
        upsert = insert_for(session)(table.table).on_conflict_do_nothing()
        values = [dict(zip(table.columns, table.values(row), strict=True)) for row in existing]
        await _insert(session, upsert, values)
    return [row for row in rows if not isinstance(row["enrollment_id"], int)]


async def _insert_table(
    session: AsyncSession, table: _Table, rows: list[Row], resolve: Resolver
) -> None:
    values = [dict(zip(table.columns, table.values(row), strict=True)) for row in rows]
    if table.keyed:
        statement = insert(table.table).returning(table.table.c.id, sort_by_parameter_order=True)
        new_ids = list((await session.execute(statement, values)).scalars())
        keys = resolve.ids[table.name]
        for row, new_id in zip(rows, new_ids, strict=True):
            keys[row["key"]] = new_id
    elif table.name == "lesson_progress":
        # Facts of an enrollment Lectern already had never overwrite what it holds.
        await _insert(session, insert_for(session)(table.table).on_conflict_do_nothing(), values)
    else:
        await _insert(session, insert(table.table), values)


async def _insert(session: AsyncSession, statement: Any, values: list[dict[str, Any]]) -> None:
    for start in range(0, len(values), BATCH):
        await session.execute(statement, values[start : start + BATCH])


async def recount_questions(session: AsyncSession, question_ids: list[int | None]) -> None:
    """Q-bank statistics from the answers of finished tests, never copied: counted in one pass
    over the answers per batch of questions."""
    ids = sorted({q for q in question_ids if q is not None})
    finished = (
        select(QbankTestQuestion.question_id, QbankTestQuestion.is_correct)
        .join(QbankTest, QbankTest.id == QbankTestQuestion.test_id)
        .where(QbankTest.status == QbankTestStatus.COMPLETED)
        .subquery()
    )
    question = aliased(QbankQuestion)
    for start in range(0, len(ids), BATCH):
        counts = (
            select(
                question.id.label("question_id"),
                func.count(finished.c.question_id).label("attempts"),
                func.count(finished.c.question_id)
                .filter(finished.c.is_correct.is_(True))
                .label("correct"),
            )
            .outerjoin(finished, finished.c.question_id == question.id)
            .where(question.id.in_(ids[start : start + BATCH]))
            .group_by(question.id)
            .subquery()
        )
        await session.execute(
            update(QbankQuestion)
            .where(QbankQuestion.id == counts.c.question_id)
            .values(attempts=counts.c.attempts, correct=counts.c.correct)
        )
