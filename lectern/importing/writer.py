"""Writing a plan in bulk, in one transaction: COPY on PostgreSQL, multi-row inserts on SQLite.

Rows refer to each other by plan keys until written. On PostgreSQL the new ids are drawn from
the tables' sequences before the first COPY (`copying`); on SQLite they come back from
INSERT … RETURNING, in parameter order.
"""

from typing import Any

import asyncpg
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from lectern.importing.copying import copy_plan
from lectern.importing.links import write_links
from lectern.importing.plan import Plan, Row, cycle_collection_paused
from lectern.importing.rows import REFERENCES, Resolver, TableRows
from lectern.models import QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.enums import QbankTestStatus
from lectern.platform.db import insert_for

# Rows per INSERT statement on SQLite, and per statement of the Q-bank recount.
BATCH = 5_000


async def write_plan(
    session: AsyncSession, plan: Plan, import_id: int, rebuild: dict[str, list[str]]
) -> Resolver:
    """Insert every planned row, running `rebuild`'s statements for each table once its rows
    are in, then the legacy-id links; the keys' new ids."""
    with cycle_collection_paused():
        return await _write_plan(session, plan, import_id, rebuild)


async def _write_plan(
    session: AsyncSession, plan: Plan, import_id: int, rebuild: dict[str, list[str]]
) -> Resolver:
    resolve = Resolver()
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if isinstance(driver, asyncpg.Connection):
        await copy_plan(session, driver, plan, import_id, resolve, rebuild)
    else:
        await _insert_plan(session, plan, resolve)
        await write_links(session, plan, resolve.ids, import_id)
    await recount_questions(session, [resolve("qbank_questions", q) for q in plan.questions])
    return resolve


async def _insert_plan(session: AsyncSession, plan: Plan, resolve: Resolver) -> None:
    for name in REFERENCES:
        if rows := plan.rows.get(name):
            await _insert_table(session, TableRows(name, rows, resolve), rows, resolve)


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
