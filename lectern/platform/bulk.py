"""A bulk load on PostgreSQL: foreign keys checked and indexes built once after it, instead of
once per row."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Each foreign key of the given tables: its table, the table it names, the ALTER TABLE clause
# that drops it and the statement that adds it back.
FOREIGN_KEYS = text("""
    SELECT conrelid::regclass::text, confrelid::regclass::text,
           format('DROP CONSTRAINT %I', conname),
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,
                  pg_get_constraintdef(oid))
    FROM pg_constraint
    WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[]))
    ORDER BY conrelid, conname
""")
# The indexes of the given tables that back no constraint (the primary and unique keys stay,
# for the conflicts they decide), as their tables, names and the statements that build them.
SECONDARY_INDEXES = text("""
    SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))
      AND NOT i.indisprimary AND NOT i.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 2
""")
SORT_MEMORY = "256MB"
# Tables (of those given, with the rows about to be loaded) that hold fewer rows than that.
SMALLER_THAN_THEIR_LOAD = text("""
    SELECT name FROM unnest(CAST(:tables AS text[]), CAST(:rows AS bigint[])) AS load(name, n)
    WHERE (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST(name AS regclass)) < n
""")


async def dropped_for_load(
    connection: AsyncConnection, loads: dict[str, int], later: Sequence[str] = ()
) -> dict[str, list[str]]:
    """The foreign keys of the tables about to be loaded (given in the order of their loads,
    with their rows) dropped, and the secondary indexes of those outgrown by their load
    (PostgreSQL's advice for populating a database); per table, the statements that put them
    back once its rows are in: its indexes, then each foreign key whose two tables are both
    loaded, those naming a table loaded `later` once that one is. They run in this
    transaction, where PostgreSQL checks a key over its whole table in one join; a load that
    fails leaves all as it was, the DDL rolled back with it."""
    tables = [name for name, rows in loads.items() if rows]
    smaller = await connection.execute(
        SMALLER_THAN_THEIR_LOAD, {"tables": tables, "rows": [loads[t] for t in tables]}
    )
    outgrown = list(smaller.scalars())
    indexes = (await connection.execute(SECONDARY_INDEXES, {"tables": outgrown})).all()
    foreign = (await connection.execute(FOREIGN_KEYS, {"tables": list(loads)})).all()
    if indexes:
        await connection.execute(text(f"DROP INDEX {', '.join(name for _, name, _ in indexes)}"))
    drops: dict[str, list[str]] = defaultdict(list)
    for table, _named, drop, _add in foreign:
        drops[table].append(drop)
    for table, clauses in drops.items():
        await connection.execute(text(f"ALTER TABLE {table} {', '.join(clauses)}"))
    if indexes:
        # Room to sort the largest of them in memory, for this transaction.
        await connection.execute(text(f"SET LOCAL maintenance_work_mem = '{SORT_MEMORY}'"))
    rebuild: dict[str, list[str]] = defaultdict(list)
    for table, _name, build in indexes:
        rebuild[table].append(build)
    order = {name: n for n, name in enumerate([*loads, *later])}
    for table, named, _drop, add in foreign:
        rebuild[max(table, named, key=lambda t: order.get(t, -1))].append(add)
    return rebuild
