"""Writing a plan's tables with COPY on PostgreSQL, in the caller's transaction.

Each keyed table's new ids are drawn from its sequence before its group's first COPY, so that
every reference and legacy-id link resolves without reading anything back. The tables' records
are built in a thread while the server takes the COPYs of the tables before and builds again
what the bulk load dropped of them (indexes, foreign keys): both cores work, and the one
connection, with its transaction, serves the COPYs and those statements in turn.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.importing.links import COPIED_COLUMNS, link_records
from lectern.importing.plan import Plan, Row
from lectern.importing.rows import Resolver, TableRows
from lectern.platform.db import insert_for

# The legacy-id links are copied before this table, the largest, not last: their COPY, a few
# large rows, then does not wait alone at the end.
LINKS_BEFORE = "lesson_progress"
# Rows per statement of the upsert of existing enrollments' facts.
BATCH = 5_000
# Ids drawn one nextval each below this many rows; a range of the sequence at or above it.
ID_RANGE_ROWS = 1_000
# Moves the sequence past `n` ids in one call and returns the last: the range is its own
# while the table is locked against inserts, the only other users of its sequence.
RESERVE_IDS = (
    "SELECT setval(pg_get_serial_sequence($1, 'id'),"
    " nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)"
)


@dataclass
class _Load:
    name: str
    columns: list[str]
    build: Callable[[], list[Any]]
    before: Callable[[], Awaitable[None]] | None = None


async def copy_tables(
    session: AsyncSession, driver: asyncpg.Connection, plan: Plan, tables: list[str],
    resolve: Resolver, rebuild: dict[str, list[str]], links_of: int | None = None,
) -> None:  # fmt: skip
    """COPY the planned rows of `tables` (in REFERENCES order), and with `links_of` the plan's
    legacy-id links as that import's; after each table, `rebuild`'s statements for it (those of
    tables without rows, last). One thread builds the tables' records, in order and as far
    ahead as it gets; it is waited for before any error is raised, so that nothing runs on
    after."""
    loads = await _loads(session, driver, plan, tables, resolve, links_of)
    builder = ThreadPoolExecutor(1, thread_name_prefix="import-records")
    built = deque(asyncio.wrap_future(builder.submit(load.build)) for load in loads)
    try:
        for load in loads:
            records = await built.popleft()
            if load.before:
                await load.before()
            await driver.copy_records_to_table(load.name, records=records, columns=load.columns)
            for statement in rebuild.get(load.name, ()):
                await driver.execute(statement)
    finally:
        builder.shutdown(wait=False, cancel_futures=True)
        if built:
            await asyncio.wait(built)
        builder.shutdown()  # its thread has no more work: it ends at once
    loaded = {load.name for load in loads}
    for name, statements in rebuild.items():
        if name not in loaded:
            for statement in statements:
                await driver.execute(statement)


async def _loads(
    session: AsyncSession, driver: asyncpg.Connection, plan: Plan, tables: list[str],
    resolve: Resolver, links_of: int | None,
) -> list[_Load]:  # fmt: skip
    """Each table's load, with the ids of every keyed table drawn first."""
    new_ids: dict[str, range | list[int]] = {}
    for name in tables:
        rows = plan.rows.get(name)
        if rows and "key" in rows[0]:
            new_ids[name] = ids = await _new_ids(driver, name, len(rows))
            resolve.ids[name].update(zip(map(itemgetter("key"), rows), ids, strict=True))
    loads = [
        _table_load(session, TableRows(name, rows, resolve), rows, new_ids)
        for name in tables
        if (rows := plan.rows.get(name))
    ]
    if links_of is not None and plan.links:
        links = _Load(
            "legacy_links", COPIED_COLUMNS, partial(link_records, plan, resolve.ids, links_of)
        )
        names = [load.name for load in loads]
        loads.insert(names.index(LINKS_BEFORE) if LINKS_BEFORE in names else len(loads), links)
    return loads


def _table_load(
    session: AsyncSession, table: TableRows, rows: list[Row], new_ids: dict[str, Any]
) -> _Load:
    ids = new_ids.get(table.name)
    columns = table.columns if ids is None else ["id", *table.columns]
    before = None
    if table.name == "lesson_progress":
        existing = [row for row in rows if isinstance(row["enrollment_id"], int)]
        rows = [row for row in rows if not isinstance(row["enrollment_id"], int)]
        if existing:
            before = lambda: _facts_of_existing_enrollments(session, table, existing)  # noqa: E731
    return _Load(table.name, columns, lambda: list(table.copy_records(rows, ids)), before)


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
    session: AsyncSession, table: TableRows, rows: list[Row]
) -> None:
    """The facts of enrollments Lectern already had, never overwriting what it holds."""
    upsert = insert_for(session)(table.table).on_conflict_do_nothing()
    values = [dict(zip(table.columns, table.values(row), strict=True)) for row in rows]
    for start in range(0, len(values), BATCH):
        await session.execute(upsert, values[start : start + BATCH])
