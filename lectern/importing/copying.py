"""Writing a plan's tables with COPY on PostgreSQL, in the caller's transaction.

Each keyed table's new ids are drawn from its sequence before its group's first COPY, so that
every reference and legacy-id link resolves without reading anything back. The tables' records
are built in a thread while the server takes the COPYs of the tables before and builds again
what the bulk load dropped of them (indexes, foreign keys): both cores work, and the one
connection, with its transaction, serves the COPYs and those statements in turn.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any

import asyncpg

from lectern.importing.links import COPIED_COLUMNS, link_records
from lectern.importing.plan import Plan, Row
from lectern.importing.rows import Resolver, TableRows

# The legacy-id links are copied before this table, the largest, not last: their COPY, a few
# large rows, then does not wait alone at the end.
LINKS_BEFORE = "lesson_progress"
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


async def copy_tables(
    driver: asyncpg.Connection, plan: Plan, tables: list[str], resolve: Resolver,
    rebuild: dict[str, list[str]], import_id: int, linked: list[str],
) -> None:  # fmt: skip
    """COPY the planned rows of `tables` (in REFERENCES order), and the legacy-id links of the
    `linked` legacy tables as import `import_id`'s; after each table, `rebuild`'s statements for it
    (those of tables without rows, last). One thread builds the tables' records, in order and
    as far ahead as it gets; it is waited for before any error is raised, so that nothing runs
    on after."""
    loads = await _loads(driver, plan, tables, resolve, import_id, linked)
    builder = ThreadPoolExecutor(1, thread_name_prefix="import-records")
    built = deque(asyncio.wrap_future(builder.submit(load.build)) for load in loads)
    try:
        for load in loads:
            records = await built.popleft()
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
    driver: asyncpg.Connection, plan: Plan, tables: list[str], resolve: Resolver,
    import_id: int, linked: list[str],
) -> list[_Load]:  # fmt: skip
    """Each table's load, with the ids of every keyed table drawn first where they were not
    drawn ahead of its rows."""
    new_ids: dict[str, range | list[int]] = {}
    for name in tables:
        rows = plan.rows.get(name)
        if not rows or "key" not in rows[0]:
            continue
        keys = map(itemgetter("key"), rows)
        if drawn := resolve.ids.get(name):
            new_ids[name] = list(map(drawn.__getitem__, keys))
        else:
            new_ids[name] = ids = await _new_ids(driver, name, len(rows))
            resolve.ids[name].update(zip(keys, ids, strict=True))
    loads = [
        _table_load(TableRows(name, rows, resolve), rows, new_ids)
        for name in tables
        if (rows := plan.rows.get(name))
    ]
    if any(plan.links[table].legacy_ids for table in linked if table in plan.links):
        records = partial(link_records, plan, resolve.ids, import_id, linked)
        names = [load.name for load in loads]
        at = names.index(LINKS_BEFORE) if LINKS_BEFORE in names else len(loads)
        loads.insert(at, _Load("legacy_links", COPIED_COLUMNS, records))
    return loads


def _table_load(table: TableRows, rows: list[Row], new_ids: dict[str, Any]) -> _Load:
    ids = new_ids.get(table.name)
    columns = table.copy_columns if ids is None else ["id", *table.copy_columns]
    return _Load(table.name, columns, lambda: list(table.copy_records(rows, ids)))


async def draw_ids(
    driver: asyncpg.Connection, table: str, keys: list[str], resolve: Resolver
) -> None:
    """New ids for the rows of `table` that will have these keys, drawn before the rows are
    planned, so that the tables that refer to them can be written first."""
    ids = await _new_ids(driver, table, len(keys))
    resolve.ids[table].update(zip(keys, ids, strict=True))


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
