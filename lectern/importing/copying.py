"""Writing a plan's tables with COPY on PostgreSQL, in the caller's transaction.

Each keyed table's new ids are drawn from its sequence before its group's first COPY, so that
every reference and legacy-id link resolves without reading anything back. The COPY data is
made (`copy_data`) while the server takes the tables before and builds again what the bulk load
dropped of them (indexes, foreign keys); the one connection, with its transaction, serves the
COPYs and those statements in turn.
"""

from collections.abc import Sequence
from functools import partial
from operator import itemgetter
from typing import Any

import asyncpg
import psycopg

from lectern.importing.copy_data import BYTEA_OID, JSONB_OID, TableData, made_beside
from lectern.importing.links import COPIED_COLUMNS, link_records
from lectern.importing.plan import Plan
from lectern.importing.rows import Resolver, TableRows

# The legacy-id links are copied before this table, the largest, not last: their COPY, a few
# large rows, then does not wait alone at the end.
LINKS_BEFORE = "lesson_progress"
# Ids drawn one nextval each below this many rows; a range of the sequence at or above it.
ID_RANGE_ROWS = 1_000
# The type oid of each column of a table, which binary COPY data is made for.
COLUMN_TYPES = (
    "SELECT attname::text, atttypid::int FROM pg_attribute"
    " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
)
# Moves the sequence past `n` ids in one call and returns the last: the range is its own
# while the table is locked against inserts, the only other users of its sequence.
RESERVE_IDS = (
    "SELECT setval(pg_get_serial_sequence($1, 'id'),"
    " nextval(pg_get_serial_sequence($1, 'id')) + $2 - 1)"
)


async def copy_tables(
    driver: asyncpg.Connection, plan: Plan, tables: list[str], resolve: Resolver,
    rebuild: dict[str, list[str]], import_id: int, linked: list[str],
    formatting: psycopg.Connection[Any],
) -> None:  # fmt: skip
    """COPY the planned rows of `tables` (in REFERENCES order), and the legacy-id links of the
    `linked` legacy tables as import `import_id`'s; after each table, `rebuild`'s statements for it
    (those of tables without rows, last). The data is made beside, as the server takes it, in
    the `formatting` connection's adaptation context (`copy_data.adaptation_context`)."""
    data = await _table_data(driver, plan, tables, resolve, import_id, linked)
    async with made_beside(formatting, data) as next_table:
        for table in data:
            await driver.copy_to_table(
                table.name, source=next_table(), columns=table.columns, format="binary"
            )
            await _run_all(driver, rebuild.get(table.name, ()))
    loaded = {table.name for table in data}
    for name, statements in rebuild.items():
        if name not in loaded:
            await _run_all(driver, statements)


async def _run_all(driver: asyncpg.Connection, statements: Sequence[str]) -> None:
    """The statements in one round trip instead of one each."""
    if statements:
        await driver.execute(";\n".join(statements))


async def _table_data(
    driver: asyncpg.Connection, plan: Plan, tables: list[str], resolve: Resolver,
    import_id: int, linked: list[str],
) -> list[TableData]:  # fmt: skip
    """Each table's data, with the ids of every keyed table drawn first where they were not
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
    data = []
    for name in tables:
        if rows := plan.rows.get(name):
            table, keyed = TableRows(name, rows, resolve), new_ids.get(name)
            columns = table.copy_columns if keyed is None else ["id", *table.copy_columns]
            records = partial(table.copy_records, rows, keyed)
            types = await _types(driver, name, columns)
            data.append(TableData(name, columns, _made_jsonb(columns, types, table), records))
    if any(plan.links[table].legacy_ids for table in linked if table in plan.links):
        links = partial(link_records, plan, resolve.ids, import_id, linked)
        types = await _types(driver, "legacy_links", COPIED_COLUMNS)
        names = [table.name for table in data]
        at = names.index(LINKS_BEFORE) if LINKS_BEFORE in names else len(data)
        data.insert(at, TableData("legacy_links", COPIED_COLUMNS, types, links))
    return data


def _made_jsonb(columns: list[str], types: list[int], table: TableRows) -> list[int]:
    """The types psycopg is told the columns have: bytea where the data is made jsonb data."""
    made = []
    for column, oid in zip(columns, types, strict=True):
        if column in table.jsonb_data:
            if oid != JSONB_OID:
                raise TypeError(f"{table.name}.{column} is not jsonb on the server")
            oid = BYTEA_OID
        made.append(oid)
    return made


async def _types(driver: asyncpg.Connection, table: str, columns: list[str]) -> list[int]:
    """The type oids of the table's columns, as the server has them."""
    found = dict(await driver.fetch(COLUMN_TYPES, table))
    return [found[column] for column in columns]


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
