"""Writing a plan in bulk, in one transaction, a group of tables at a time as planning finishes
them: COPY on PostgreSQL, multi-row inserts on SQLite.

Rows refer to each other by plan keys until written. On PostgreSQL the new ids are drawn from
the tables' sequences before a group's first COPY (`copying`); on SQLite they come back from
INSERT … RETURNING, in parameter order.
"""

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import asyncpg
import psycopg
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lectern.importing.copy_data import adaptation_context
from lectern.importing.copying import copy_tables, draw_ids
from lectern.importing.links import write_links
from lectern.importing.plan import LINKED, Plan, Row
from lectern.importing.rows import REFERENCES, Resolver, TableRows
from lectern.models import QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.enums import QbankTestStatus
from lectern.platform.bulk import dropped_for_load
from lectern.platform.db import insert_for
from lectern.tallies.rebuild import COUNTED_FROM, recounted_after_bulk_load

# Rows per INSERT statement on SQLite, and per statement of the Q-bank recount.
BATCH = 5_000
# Rows of a group of tables above which it is written as a bulk load.
BULK_ROWS = 10_000
# The tables whose planned rows are kept once written: the report names the institutions.
KEPT = {"institutions"}
# Written rows let go of at a time, so that the other threads run in between.
LET_GO = 10_000


class PlanWriter:
    """Writes one import's plan in the caller's transaction: each group of tables, with the
    legacy-id links of the rows that became theirs, when told its rows are final; then the
    rest, and the recounts. `close` ends the connection its COPY data is formatted with."""

    def __init__(self, session: AsyncSession, import_id: int) -> None:
        self.session, self.import_id = session, import_id
        self.resolve = Resolver()
        self.written: set[str] = set()
        self.bulk = False  # whether a group was loaded in bulk: the tallies are recounted
        # Foreign keys dropped for a bulk load, added back once the table they name is written.
        self.rebuild_later: dict[str, list[str]] = defaultdict(list)
        self._recount = AsyncExitStack()
        self._letting_go: list[asyncio.Future[None]] = []
        self._formatting: psycopg.Connection[Any] | None = None
        self._opened = ExitStack()

    def close(self) -> None:
        self._opened.close()

    async def write(self, plan: Plan, tables: Iterable[str]) -> None:
        """The planned rows of `tables`, but those written already; left for `finish` where
        a table they refer to has no ids yet."""
        names = [name for name in REFERENCES if name in set(tables) - self.written]
        driver = await self._driver()
        if not await self._referred_ids_drawn(plan, names, driver):
            return
        self.written.update(names)
        await self._write(plan, names, driver)
        self._let_go_of_written(plan)
        if self.written >= set(COUNTED_FROM):
            # No later table changes a tally: the recount runs while the rest is planned.
            await self._recount.aclose()

    async def finish(self, plan: Plan) -> Resolver:
        """The tables not written yet with their legacy-id links, and what is counted from the rows
        (Q-bank statistics, and the tallies after a bulk load); the keys' new ids."""
        names = [name for name in REFERENCES if name not in self.written]
        self.written.update(names)
        await self._write(plan, names, await self._driver())
        self._let_go_of_written(plan)
        questions = [self.resolve("qbank_questions", q) for q in plan.questions]
        await recount_questions(self.session, questions)
        await self._recount.aclose()
        await asyncio.gather(*self._letting_go)
        return self.resolve

    def _let_go_of_written(self, plan: Plan) -> None:
        """The rows written so far taken out of the plan and freed in a thread, while the
        server takes what follows, rather than all at once after the import."""
        if written := plan.release(self.written - KEPT):
            self._letting_go.append(asyncio.ensure_future(asyncio.to_thread(_let_go, written)))

    async def _referred_ids_drawn(self, plan: Plan, names: list[str], driver: Any) -> bool:
        """Whether every table these tables refer to has its new rows' ids: written already,
        or drawn now from the keys planned ahead of its rows. Only a bulk load on PostgreSQL
        goes ahead of a table it refers to, its foreign keys dropped until that table is
        written; SQLite gives the ids as the rows go in."""
        referred = {table for name in names for table in REFERENCES[name].values()}
        unwritten = referred - self.written - set(names)
        if not unwritten:
            return True
        copying = isinstance(driver, asyncpg.Connection)
        if not (copying and _in_bulk(plan, names) and unwritten <= set(plan.keys)):
            return False
        for table in unwritten:
            if not self.resolve.ids.get(table):
                await draw_ids(driver, table, plan.keys[table], self.resolve)
        return True

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        return (await connection.get_raw_connection()).driver_connection

    async def _write(self, plan: Plan, names: list[str], driver: Any) -> None:
        """The rows of the tables `names`, and the links of the legacy tables whose rows
        became theirs."""
        linked = [legacy for legacy, table in LINKED.items() if table in names]
        if isinstance(driver, asyncpg.Connection):
            rebuild = await self._bulk_load(plan, names)
            for name in names:
                rebuild.setdefault(name, []).extend(self.rebuild_later.pop(name, ()))
            await copy_tables(
                driver, plan, names, self.resolve, rebuild, self.import_id, linked,
                await self._formatting_context(),
            )  # fmt: skip
        else:
            for name in names:
                if rows := plan.rows.get(name):
                    table = TableRows(name, rows, self.resolve)
                    await _insert_table(self.session, table, rows, self.resolve)
            await write_links(self.session, plan, self.resolve.ids, self.import_id, linked)
        if "lesson_progress" in names and plan.facts_of_known:
            await self._facts_of_known_enrollments(plan.facts_of_known)

    async def _formatting_context(self) -> psycopg.Connection[Any]:
        """The connection COPY data is formatted with: one per import, opened at its first COPY."""
        if self._formatting is None:
            target = (await self.session.connection()).engine.url
            self._formatting = self._opened.enter_context(adaptation_context(target))
        return self._formatting

    async def _facts_of_known_enrollments(self, rows: list[Row]) -> None:
        """The facts of enrollments Lectern already had, never overwriting what it holds."""
        table = TableRows("lesson_progress", rows, self.resolve)
        upsert = insert_for(self.session)(table.table).on_conflict_do_nothing()
        await _insert(self.session, upsert, [table.as_dict(row) for row in rows])

    async def _bulk_load(self, plan: Plan, names: list[str]) -> dict[str, list[str]]:
        """A large group loaded as PostgreSQL's documentation advises for populating a
        database: foreign keys checked once per table after its load, secondary indexes built
        after it where the load outgrows the table, and the tallies counted once from the rows
        when the tables they count are in, instead of a check, index entries and a trigger per
        row; per table, the statements that put back what was dropped. The written tables stay
        locked until the import commits. A small group (a cut-over's new rows) is written as
        commands do."""
        if not _in_bulk(plan, names):
            return {}
        loads = {name: len(plan.rows.get(name, ())) for name in names}
        connection = await self.session.connection()
        if not self.bulk:
            await self._recount.enter_async_context(recounted_after_bulk_load(connection))
            self.bulk = True
        later = [name for name in REFERENCES if name not in self.written and name not in names]
        rebuild = await dropped_for_load(connection, loads, later)
        for name in later:
            self.rebuild_later[name].extend(rebuild.pop(name, ()))
        return rebuild


def _let_go(written: list[list[Row]]) -> None:
    """Written rows freed from the end, LET_GO at a time, so that the thread holds the
    interpreter for a short while at a time."""
    for rows in written:
        while rows:
            del rows[-LET_GO:]


def _in_bulk(plan: Plan, names: list[str]) -> bool:
    """Whether these tables' planned rows are many enough to be loaded in bulk."""
    rows = sum(len(plan.rows.get(name, ())) for name in names)
    return rows > 0 and rows >= BULK_ROWS


async def _insert_table(
    session: AsyncSession, table: TableRows, rows: list[Row], resolve: Resolver
) -> None:
    values = [table.as_dict(row) for row in rows]
    if table.keyed:
        statement = insert(table.table).returning(table.table.c.id, sort_by_parameter_order=True)
        new_ids = list((await session.execute(statement, values)).scalars())
        keys = resolve.ids[table.name]
        for row, new_id in zip(rows, new_ids, strict=True):
            keys[row["key"]] = new_id
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
