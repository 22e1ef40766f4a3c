"""Writing a plan in bulk, in one transaction, a group of tables at a time as planning finishes
them: COPY on PostgreSQL, multi-row inserts on SQLite.

Rows refer to each other by plan keys until written. On PostgreSQL the new ids are drawn from
the tables' sequences before a group's first COPY (`copying`); on SQLite they come back from
INSERT … RETURNING, in parameter order.
"""

from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lectern.importing.bulk import dropped_for_load
from lectern.importing.copying import copy_tables
from lectern.importing.links import write_links
from lectern.importing.plan import Plan, Row, cycle_collection_paused
from lectern.importing.rows import REFERENCES, Resolver, TableRows
from lectern.models import QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.enums import QbankTestStatus
from lectern.platform.db import insert_for
from lectern.tallies.rebuild import recounted_after_bulk_load

# Rows per INSERT statement on SQLite, and per statement of the Q-bank recount.
BATCH = 5_000
# Rows of a group of tables above which it is written as a bulk load.
BULK_ROWS = 10_000


class PlanWriter:
    """Writes one import's plan in the caller's transaction: each group of tables when told
    its rows are final, then the rest, the legacy-id links and the recounts."""

    def __init__(self, session: AsyncSession, import_id: int) -> None:
        self.session, self.import_id = session, import_id
        self.resolve = Resolver()
        self.written: set[str] = set()
        self.bulk = False  # whether a group was loaded in bulk: the tallies are recounted
        self._recount = AsyncExitStack()

    async def write(self, plan: Plan, tables: Iterable[str]) -> None:
        """The planned rows of `tables`, but those written already."""
        names = [name for name in REFERENCES if name in set(tables) - self.written]
        self.written.update(names)
        with cycle_collection_paused():
            await self._write(plan, names, links=False)

    async def finish(self, plan: Plan) -> Resolver:
        """The tables not written yet, the legacy-id links, and what is counted from the rows
        (Q-bank statistics, and the tallies after a bulk load); the keys' new ids."""
        names = [name for name in REFERENCES if name not in self.written]
        self.written.update(names)
        with cycle_collection_paused():
            await self._write(plan, names, links=True)
        questions = [self.resolve("qbank_questions", q) for q in plan.questions]
        await recount_questions(self.session, questions)
        await self._recount.aclose()
        return self.resolve

    async def _write(self, plan: Plan, names: list[str], *, links: bool) -> None:
        connection = await self.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        if isinstance(driver, asyncpg.Connection):
            rebuild = await self._bulk_load(plan, names)
            links_of = self.import_id if links else None
            await copy_tables(self.session, driver, plan, names, self.resolve, rebuild, links_of)
            return
        for name in names:
            if rows := plan.rows.get(name):
                table = TableRows(name, rows, self.resolve)
                await _insert_table(self.session, table, rows, self.resolve)
        if links:
            await write_links(self.session, plan, self.resolve.ids, self.import_id)

    async def _bulk_load(self, plan: Plan, names: list[str]) -> dict[str, list[str]]:
        """A large group loaded as PostgreSQL's documentation advises for populating a
        database: foreign keys checked once per table after its load, secondary indexes built
        after it where the load outgrows the table, and the tallies counted once from the rows
        when the import ends, instead of a check, index entries and a trigger per row; per
        table, the statements that put back what was dropped. The written tables stay locked
        until the import commits. A small group (a cut-over's new rows) is written as commands
        do."""
        loads = {name: len(plan.rows.get(name, ())) for name in names}
        if not any(loads.values()) or sum(loads.values()) < BULK_ROWS:
            return {}
        connection = await self.session.connection()
        if not self.bulk:
            await self._recount.enter_async_context(recounted_after_bulk_load(connection))
            self.bulk = True
        return await dropped_for_load(connection, loads)


async def _insert_table(
    session: AsyncSession, table: TableRows, rows: list[Row], resolve: Resolver
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
