"""Writing a plan in bulk: multi-row inserts through SQLAlchemy Core, in one transaction.

Rows refer to each other by plan keys until written; each table's new ids come back from its
INSERT … RETURNING (in parameter order) and resolve the keys of the tables written after it.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.importing.plan import Plan, Ref
from lectern.models import (
    Base,
    LegacyId,
    QbankQuestion,
    QbankTest,
    QbankTestQuestion,
)
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
# Rows per INSERT statement for tables whose ids are not needed back.
BATCH = 5_000

Ids = dict[str, dict[str, int]]


class Resolver:
    def __init__(self) -> None:
        self.ids: Ids = defaultdict(dict)

    def __call__(self, table: str, ref: Ref | None) -> int | None:
        if ref is None or isinstance(ref, int):
            return ref
        return self.ids[table][ref]


async def write_plan(session: AsyncSession, plan: Plan, import_id: int) -> Resolver:
    """Insert every planned row and the legacy-id links; the keys' new ids."""
    resolve = Resolver()
    for table_name, references in REFERENCES.items():
        rows = plan.rows.get(table_name)
        if not rows:
            continue
        table = Base.metadata.tables[table_name]
        values = [
            {
                column: resolve(references[column], value) if column in references else value
                for column, value in row.items()
                if column != "key"
            }
            for row in rows
        ]
        if "key" in rows[0]:
            new_ids = await _insert_returning_ids(session, table, values)
            keys = resolve.ids[table_name]
            for row, new_id in zip(rows, new_ids, strict=True):
                keys[row["key"]] = new_id
        elif table_name == "lesson_progress":
            # Facts of an enrollment Lectern already had never overwrite what it holds.
            upsert = insert_for(session)(table).on_conflict_do_nothing()
            await _insert(session, upsert, values)
        else:
            await _insert(session, insert(table), values)
    links = [
        {"legacy_table": legacy_table, "legacy_id": legacy_id,
         "lectern_id": resolve(entity, ref), "import_id": import_id}
        for legacy_table, legacy_id, entity, ref in plan.links
    ]  # fmt: skip
    await _insert(session, insert(LegacyId), links)
    await recount_questions(session, [resolve("qbank_questions", q) for q in plan.questions])
    return resolve


async def _insert_returning_ids(
    session: AsyncSession, table: Table, values: list[dict[str, Any]]
) -> list[int]:
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    result = await session.execute(statement, values)
    return list(result.scalars())


async def _insert(session: AsyncSession, statement: Any, values: list[dict[str, Any]]) -> None:
    for start in range(0, len(values), BATCH):
        await session.execute(statement, values[start : start + BATCH])


async def recount_questions(session: AsyncSession, question_ids: list[int | None]) -> None:
    """Q-bank statistics from the answers of finished tests, never copied."""
    ids = sorted({q for q in question_ids if q is not None})
    answered = (
        select(func.count())
        .select_from(QbankTestQuestion)
        .join(QbankTest, QbankTest.id == QbankTestQuestion.test_id)
        .where(
            QbankTestQuestion.question_id == QbankQuestion.id,
            QbankTest.status == QbankTestStatus.COMPLETED,
        )
    )
    for start in range(0, len(ids), BATCH):
        await session.execute(
            update(QbankQuestion)
            .where(QbankQuestion.id.in_(ids[start : start + BATCH]))
            .values(
                attempts=answered.scalar_subquery(),
                correct=answered.where(QbankTestQuestion.is_correct.is_(True)).scalar_subquery(),
            )
        )
