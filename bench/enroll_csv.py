"""Bulk enrollment from CSV: roster rows per second applied by `lectern enroll-csv --apply`'s
command, against raw INSERTs of the same enrollments, in the same run.

Lectern side: a roster of N rows (9 in 10 enroll an existing student, 1 in 10 invites a new
learner by full_name) over ten courses is parsed, planned and applied in one transaction by
lectern.rosters.service.import_roster: the rows run as the admin enrollment commands' batched
forms (pair locks, upsert, pending requests closed, events, notifications, and the learners'
"enrolled" e-mail written to the outbox, as `lectern serve` and `lectern enroll-csv` write it);
invitations create the accounts.

Baseline, in the same run and database server: the same enrollments written by one
executemany INSERT into `enrollments` of an identical fresh database, in one transaction: no
rule, no event, no notification. The ratio prices the commands' rules.

    .venv/bin/python bench/enroll_csv.py [--rows 10000]
"""

import argparse
import asyncio
import time

from harness import scratch_database
from sqlalchemy import insert

from lectern.accounts.service import create_staff
from lectern.courses.schemas import CourseCreate
from lectern.courses.service import create_course
from lectern.mail.outbox import subscribe_mail
from lectern.models import Enrollment, StudentProfile, User
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentSource, EnrollmentStatus, Role
from lectern.platform.actor import Actor
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.rosters.service import import_roster

COURSES = 10
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"


async def seed(database: Database, students: int) -> tuple[Actor, list[int], list[str]]:
    """An institution with an admin, ten published courses and `students` students."""

    async def command(session):  # type: ignore[no-untyped-def]
        admin, _ = await create_staff(
            session,
            institution_name="Bench College",
            email="admin@bench.test",
            password_hash=HASH,
            full_name="Admin",
        )
        actor = Actor.of(admin)
        courses = [
            await create_course(
                session, actor, CourseCreate(title=f"Course {n}", status="published")
            )
            for n in range(COURSES)
        ]
        now = utcnow()
        ids = (
            await session.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "institution_id": actor.institution_id,
                        "email": f"learner{n}@bench.test",
                        "email_key": f"learner{n}@bench.test",
                        "password_hash": HASH,
                        "full_name": f"Learner {n}",
                        "role": Role.STUDENT,
                        "is_platform_admin": False,
                        "created_at": now,
                    }
                    for n in range(students)
                ],
            )
        ).all()
        await session.execute(
            insert(StudentProfile), [{"user_id": i, "bio": "", "created_at": now} for i in ids]
        )
        return actor, [course.id for course in courses], [course.slug for course in courses]

    return await database.run(command)


def roster(rows: int, slugs: list[str]) -> bytes:
    lines = ["email,course,action,full_name"]
    for n in range(rows):
        if n % 10 == 9:
            lines.append(f"new{n}@bench.test,{slugs[n % COURSES]},enroll,New Learner {n}")
        else:
            lines.append(f"learner{n}@bench.test,{slugs[n % COURSES]},enroll,")
    return ("\n".join(lines) + "\n").encode()


async def lectern_run(url: str, rows: int) -> float:
    subscribe_mail()
    database = Database(Settings(database_url=url))
    try:
        actor, _, slugs = await seed(database, rows)
        data = roster(rows, slugs)
        started = time.perf_counter()
        report = await database.run(lambda s: import_roster(s, actor, data, "bench.csv"))
        elapsed = time.perf_counter() - started
        assert report.ok, report.outcomes
        return elapsed
    finally:
        await database.dispose()


async def baseline_run(url: str, rows: int) -> float:
    database = Database(Settings(database_url=url))
    try:
        _, course_ids, _ = await seed(database, rows)
        async with database.session() as session:
            users = (
                await session.scalars(
                    User.__table__.select()
                    .with_only_columns(User.id)
                    .where(User.role == Role.STUDENT)
                    .order_by(User.id)
                )
            ).all()
        now = utcnow()
        values = [
            {
                "user_id": users[n],
                "course_id": course_ids[n % COURSES],
                "status": EnrollmentStatus.ACTIVE,
                "source": EnrollmentSource.ADMIN,
                "progress": 0.0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(rows)
        ]

        async def write(session):  # type: ignore[no-untyped-def]
            await session.execute(insert(Enrollment), values)

        started = time.perf_counter()
        await database.run(write)
        return time.perf_counter() - started
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    rows = parser.parse_args().rows
    with scratch_database("roster") as lectern_db:
        lectern_s = asyncio.run(lectern_run(lectern_db.async_url, rows))
    with scratch_database("roster_base") as baseline_db:
        baseline_s = asyncio.run(baseline_run(baseline_db.async_url, rows))
    print(f"roster rows applied: {rows:,}")
    print(f"Lectern (enroll-csv --apply): {lectern_s:6.2f} s  {rows / lectern_s:10,.0f} rows/s")
    print(f"raw INSERTs (baseline):       {baseline_s:6.2f} s  {rows / baseline_s:10,.0f} rows/s")
    print(f"ratio (Lectern / baseline):   {lectern_s / baseline_s:6.1f}x the time")


if __name__ == "__main__":
    main()
