"""Recounting the tallies from the rows: all of them after a bulk load, or one key's rows when
the audit finds them off.

A tally row is rewritten with an upsert rather than deleted and inserted, so that the trigger
keeping an institution's active learners sees the learner's change.
"""

from typing import Any

from sqlalchemy import delete, true
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import (
    CompletionDay,
    Course,
    CourseTally,
    Enrollment,
    InstitutionTally,
    LearnerTally,
    ProgressBucket,
    User,
)
from lectern.platform.db import insert_for
from lectern.tallies import expected
from lectern.tallies.expected import FIGURES, AnySelect


async def _write(session: AsyncSession, table: Any, key: str, rows: AnySelect) -> None:
    statement = insert_for(session)(table).from_select([key, *FIGURES], rows.where(true()))
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[key], set_={f: statement.excluded[f] for f in FIGURES}
        )
    )


async def _replace(session: AsyncSession, table: Any, where: Any, rows: AnySelect) -> None:
    await session.execute(delete(table).where(where))
    await session.execute(
        insert_for(session)(table).from_select([c.name for c in rows.selected_columns], rows)
    )


async def recount_course_tally(session: AsyncSession, course_id: int) -> None:
    rows = expected.course_tallies().where(Course.id == course_id)
    await _write(session, CourseTally.__table__, "course_id", rows)


async def recount_learner_tally(session: AsyncSession, user_id: int) -> None:
    rows = expected.learner_tallies().where(User.id == user_id)
    await _write(session, LearnerTally.__table__, "user_id", rows)


async def recount_progress_buckets(session: AsyncSession, course_id: int) -> None:
    rows = expected.progress_buckets().where(Enrollment.course_id == course_id)
    await _replace(session, ProgressBucket.__table__, ProgressBucket.course_id == course_id, rows)


async def recount_completion_days(session: AsyncSession, course_id: int) -> None:
    rows = expected.completion_days().where(Enrollment.course_id == course_id)
    await _replace(session, CompletionDay.__table__, CompletionDay.course_id == course_id, rows)


async def recount_institution_tally(session: AsyncSession, institution_id: int) -> None:
    rows = expected.institution_tallies().where(User.institution_id == institution_id)
    where = InstitutionTally.institution_id == institution_id
    await _replace(session, InstitutionTally.__table__, where, rows)


async def rebuild_tallies(session: AsyncSession) -> None:
    """Recount every tally from the rows, set-based; for a bulk load that bypassed nothing
    but wants exact sums, or after restoring a backup. Institutions last: the learners'
    rewrite moves their active-learner counts."""
    await _write(session, CourseTally.__table__, "course_id", expected.course_tallies())
    await _write(session, LearnerTally.__table__, "user_id", expected.learner_tallies())
    await _replace(session, ProgressBucket.__table__, true(), expected.progress_buckets())
    await _replace(session, CompletionDay.__table__, true(), expected.completion_days())
    await _replace(session, InstitutionTally.__table__, true(), expected.institution_tallies())
