"""Recounting the tallies from the rows: all of them after a bulk load, or one key's rows when
the audit finds them off.

A tally row is rewritten with an upsert rather than deleted and inserted, so that the trigger
keeping an institution's active learners sees the learner's change.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, text, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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
from lectern.platform.bulk import dropped_for_load
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


async def rebuild_tallies(session: AsyncSession, *, triggers_off: bool = False) -> None:
    """Recount every tally from the rows, set-based; for a bulk load that bypassed nothing
    but wants exact sums, or after restoring a backup. Institutions last: the learners'
    rewrite moves their active-learner counts. With the tally triggers off, the courses' and
    learners' tallies are replaced outright, as the others are: no trigger follows a learner's
    change, and an insert costs the server about half an upsert."""
    for table, key, rows in (
        (CourseTally.__table__, "course_id", expected.course_tallies()),
        (LearnerTally.__table__, "user_id", expected.learner_tallies()),
    ):
        if triggers_off:
            await _replace(session, table, true(), rows)
        else:
            await _write(session, table, key, rows)
    await _replace(session, ProgressBucket.__table__, true(), expected.progress_buckets())
    await _replace(session, CompletionDay.__table__, true(), expected.completion_days())
    await _replace(session, InstitutionTally.__table__, true(), expected.institution_tallies())


# The tables the tallies are counted from, and the tallies' own.
COUNTED_FROM = ("institutions", "users", "courses", "enrollments", "access_requests")
TALLY_TABLES = tuple(
    model.__tablename__
    for model in (CourseTally, LearnerTally, ProgressBucket, CompletionDay, InstitutionTally)
)
# The triggers that keep the tallies (migration 0010), by the table they are on.
TALLY_TRIGGERS = {
    "enrollments": [
        "tally_enrollments_insert",
        "tally_enrollments_update",
        "tally_enrollments_delete",
    ],
    "access_requests": ["tally_requests_insert", "tally_requests_update", "tally_requests_delete"],
    "users": ["tally_users_insert", "tally_users_update", "tally_users_delete"],
    "learner_tallies": ["tally_active_learners_insert", "tally_active_learners_update"],
}


async def _set_tally_triggers(connection: AsyncConnection, state: str) -> None:
    for table, names in TALLY_TRIGGERS.items():
        triggers = ", ".join(f"{state} TRIGGER {name}" for name in names)
        await connection.execute(text(f"ALTER TABLE {table} {triggers}"))


@asynccontextmanager
async def recounted_after_bulk_load(connection: AsyncConnection) -> AsyncIterator[None]:
    """Rows written inside are counted once, at the end, by `rebuild_tallies`: on PostgreSQL
    the tally triggers are off meanwhile (ALTER TABLE, which locks the tables until the
    transaction ends and is undone with it), instead of firing once per row at commit. They
    stay off through the recount too, which writes every institution's figures last, from the
    rows, so no trigger needs to follow the learners' rewrite."""
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        await _set_tally_triggers(connection, "DISABLE")
    yield
    keys_back: dict[str, list[str]] = {}
    if postgres:
        # Each count runs once over whole tables: compiling it (the planner's estimates for
        # just-loaded tables are far off) costs more than it saves. The tallies' foreign keys
        # are checked once, after their rewrite.
        await connection.execute(text("SET LOCAL jit = off"))
        keys_back = await dropped_for_load(connection, dict.fromkeys(TALLY_TABLES, 0))
    async with AsyncSession(bind=connection) as session:
        await rebuild_tallies(session, triggers_off=postgres)
    for statements in keys_back.values():
        for statement in statements:
            await connection.execute(text(statement))
    if postgres:
        await _set_tally_triggers(connection, "ENABLE")
