"""Rows of lesson_progress as commands read, change and write them back in bulk."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.learning.schemas import LessonState
from lectern.models import LessonProgress
from lectern.models.base import utcnow
from lectern.platform.db import insert_for


@dataclass
class LessonFacts:
    """A lesson_progress row as the batch is building it."""

    enrollment_id: int
    lesson_id: int
    watched: list[list[float]] = field(default_factory=list)
    watched_s: float = 0.0
    best_score: float | None = None
    completed_at: datetime | None = None
    changed: bool = False


def lesson_state(facts: LessonFacts | LessonProgress) -> LessonState:
    return LessonState(
        lesson_id=facts.lesson_id,
        watched_s=facts.watched_s,
        completed=facts.completed_at is not None,
        best_score=facts.best_score,
    )


async def load_lesson_facts(
    session: AsyncSession, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], LessonFacts]:
    facts = {pair: LessonFacts(*pair) for pair in pairs}
    if not pairs:
        return facts
    rows = await session.execute(
        select(
            LessonProgress.enrollment_id,
            LessonProgress.lesson_id,
            LessonProgress.watched,
            LessonProgress.watched_s,
            LessonProgress.best_score,
            LessonProgress.completed_at,
        ).where(tuple_(LessonProgress.enrollment_id, LessonProgress.lesson_id).in_(list(pairs)))
    )
    for enrollment_id, lesson_id, watched, watched_s, best_score, completed_at in rows:
        facts[(enrollment_id, lesson_id)] = LessonFacts(
            enrollment_id, lesson_id, list(watched or []), watched_s, best_score, completed_at
        )
    return facts


async def write_lesson_facts(session: AsyncSession, facts: Sequence[LessonFacts]) -> None:
    """All changed rows in one multi-row upsert; a completion, once set, is never cleared."""
    if not facts:
        return
    now = utcnow()
    insert = insert_for(session)
    table = LessonProgress.__table__
    # The Core table, not the entity: the ORM's per-row bulk bookkeeping is not needed here.
    statement = insert(table).values(
        [
            {
                "enrollment_id": f.enrollment_id,
                "lesson_id": f.lesson_id,
                "watched": f.watched,
                "watched_s": f.watched_s,
                "best_score": f.best_score,
                "completed_at": f.completed_at,
                "updated_at": now,
            }
            for f in facts
        ]
    )
    kept_completion = func.coalesce(table.c.completed_at, statement.excluded.completed_at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["enrollment_id", "lesson_id"],
            set_={
                "watched": statement.excluded.watched,
                "watched_s": statement.excluded.watched_s,
                "best_score": statement.excluded.best_score,
                "completed_at": kept_completion,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )
