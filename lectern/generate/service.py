"""`lectern generate`: a realistic data set of any size, written in bulk in one transaction."""

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from lectern.accounts.security import hash_password
from lectern.generate.bulk import (
    reserve_ids,
    settle_ids,
    write_batch,
    write_question_statistics,
)
from lectern.generate.catalogue import Batch, Ids, InstitutionShape, institution
from lectern.generate.people import CHOSEN_COURSES, Students
from lectern.models.base import utcnow
from lectern.platform.db import Database
from lectern.tallies.rebuild import recounted_after_bulk_load

GENERATED_PASSWORD = "lectern-generated"  # noqa: S105 - printed by the command by design
# Students written per batch: about 8,000 enrollments and 80,000 facts held in memory at once.
STUDENTS_PER_BATCH = 2_000
STUDENTS_BETWEEN_TURNS = 50


@dataclass(frozen=True)
class Generated:
    enrollments: int
    students: int
    admins: list[str]  # each institution's admin e-mail
    password: str


def _shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` as evenly as whole numbers allow."""
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


async def _batch(
    students: Students, school: InstitutionShape, per_student: int, quota: int
) -> tuple[Batch, int, int]:
    """Up to STUDENTS_PER_BATCH students of `school` with at most `quota` enrollments between
    them: the batch, its enrollments and its students."""
    batch = Batch()
    enrolled = count = 0
    while count < STUDENTS_PER_BATCH and enrolled < quota:
        enrolled += students.student(batch, school, min(per_student, quota - enrolled))
        count += 1
        if count % STUDENTS_BETWEEN_TURNS == 0:
            await asyncio.sleep(0)
    return batch, enrolled, count


async def _write_students(
    connection: AsyncConnection,
    students: Students,
    schools: list[InstitutionShape],
    quotas: list[int],
    on_progress: Callable[[int], None],
) -> tuple[int, int]:
    """Each school's quota of enrollments, in batches of students, each batch made while
    PostgreSQL takes in the last one (the making gives way to the writing every few students,
    so that both processes work at once); the enrollments and the students written."""
    per_student = len(schools[0].default) + CHOSEN_COURSES
    done = students_made = 0
    writing: asyncio.Task[None] | None = None
    for school, quota in zip(schools, quotas, strict=True):
        made = 0
        while made < quota:
            try:
                batch, enrolled, count = await _batch(students, school, per_student, quota - made)
            finally:
                if writing is not None:
                    await writing
            writing = asyncio.create_task(write_batch(connection, batch.rows))
            made += enrolled
            students_made += count
            on_progress(done + made)
        done += made
    if writing is not None:
        await writing
    return done, students_made


async def generate(
    database: Database,
    enrollments: int,
    *,
    institutions: int = 1,
    seed: int = 0,
    on_progress: Callable[[int], None] = lambda _done: None,
) -> Generated:
    """Institutions with courses and `enrollments` enrollments of their students, with every
    row the commands would have written beside them; `on_progress` hears the enrollments
    made so far (a batch is written while the next is made)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible made-up data, not a secret
    password_hash = hash_password(GENERATED_PASSWORD)
    start = utcnow() - timedelta(days=365)
    async with database.engine.begin() as connection, recounted_after_bulk_load(connection):
        ids = Ids(await reserve_ids(connection))
        catalogue = Batch()
        schools: list[InstitutionShape] = [
            institution(ids, catalogue, password_hash, start) for _ in range(institutions)
        ]
        await write_batch(connection, catalogue.rows)
        students = Students(rng, ids, password_hash, start)
        done, students_made = await _write_students(
            connection, students, schools, _shares(enrollments, institutions), on_progress
        )
        await write_question_statistics(
            connection,
            [(q, students.attempts[q], students.correct[q]) for q in sorted(students.attempts)],
        )
        await settle_ids(connection, ids.used)
    return Generated(
        done,
        students_made,
        [f"admin@{school.slug}.test" for school in schools],
        GENERATED_PASSWORD,
    )
