"""Enrollments that end: an active enrollment past its `ends_at` becomes `expired`, and its
learner is told a few days before and when it happens.

One job does both, every `expiry_interval_seconds` in every process; on PostgreSQL an advisory
lock lets one process at a time run it. Each change is also a guarded UPDATE (only an active
enrollment expires, only an unnotified one is told), so even two runs at once expire an
enrollment once and send its notice once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.pair import ENROLLMENTS, enrollment_ended, lock_pair
from lectern.events.service import record_event
from lectern.events.types import EnrollmentExpired, EnrollmentExpiring
from lectern.models import Course
from lectern.models.base import UTCDateTime, utcnow
from lectern.models.enums import EnrollmentStatus
from lectern.notifications.service import notify
from lectern.platform.db import Database
from lectern.platform.prepared import Prepared
from lectern.platform.rounds import Rounds

log = logging.getLogger(__name__)
EXPIRY_LOCK_KEY = 0x1EC7E2E9B1  # one bigint advisory-lock key for the whole cluster
BATCH = 500

_NOW = bindparam("now", type_=UTCDateTime())
_DUE = Prepared(
    select(ENROLLMENTS.c.id, ENROLLMENTS.c.user_id, ENROLLMENTS.c.course_id)
    .where(ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE, ENROLLMENTS.c.ends_at <= _NOW)
    .order_by(ENROLLMENTS.c.ends_at, ENROLLMENTS.c.id)
    .limit(BATCH)
)
_EXPIRE = Prepared(
    update(ENROLLMENTS)
    .where(
        ENROLLMENTS.c.id == bindparam("enrollment_id"),
        ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE,
        ENROLLMENTS.c.ends_at <= _NOW,
    )
    .values(status=EnrollmentStatus.EXPIRED, updated_at=_NOW)
    .returning(*ENROLLMENTS.c)
)
_TELL_SOON = Prepared(
    update(ENROLLMENTS)
    .where(
        ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE,
        ENROLLMENTS.c.expiry_notified_at.is_(None),
        ENROLLMENTS.c.ends_at > _NOW,
        ENROLLMENTS.c.ends_at <= bindparam("horizon", type_=UTCDateTime()),
    )
    .values(expiry_notified_at=_NOW, updated_at=_NOW)
    .returning(
        ENROLLMENTS.c.id, ENROLLMENTS.c.user_id, ENROLLMENTS.c.course_id, ENROLLMENTS.c.ends_at
    )
)


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    expired: int
    notified: int


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Expire up to BATCH active enrollments whose end has come; how many expired."""
    courses: dict[int, Course] = {}
    expired = 0
    for due in await _DUE.all(session, {"now": now}):
        course = courses.get(due.course_id)
        if course is None:
            course = courses[due.course_id] = await session.get_one(Course, due.course_id)
        expired += await expire_enrollment(session, due.id, due.user_id, course, now)
    return expired


async def expire_enrollment(
    session: AsyncSession, enrollment_id: int, user_id: int, course: Course, now: datetime
) -> bool:
    """Expire an active enrollment whose end has come, tell its learner, and give its seat to
    the waitlist; False if it was not (or no longer) one to expire."""
    await lock_pair(session, user_id, course.id)
    enrollment = await _EXPIRE.one_or_none(session, {"enrollment_id": enrollment_id, "now": now})
    if enrollment is None:
        return False  # changed meanwhile: cancelled, completed, extended or expired by another
    await enrollment_ended(
        session,
        enrollment,
        course,
        EnrollmentExpired,
        title=f"Your access to {course.title} has ended",
        body="Your history and any certificate stay yours.",
        link="/me",
    )
    return True


async def tell_ending_soon(session: AsyncSession, now: datetime, notice_days: int) -> int:
    """Tell each learner whose enrollment ends within `notice_days`, once; how many were told."""
    if notice_days <= 0:
        return 0
    parameters = {"now": now, "horizon": now + timedelta(days=notice_days)}
    ending = await _TELL_SOON.all(session, parameters)
    titles: dict[int, Any] = {}
    if ending:
        titles = {
            row.id: row
            for row in await session.execute(
                select(Course.id, Course.title, Course.institution_id).where(
                    Course.id.in_({row.course_id for row in ending})
                )
            )
        }
    for row in ending:
        course = titles[row.course_id]
        record_event(
            session,
            EnrollmentExpiring(
                id=row.id,
                user_id=row.user_id,
                course_id=row.course_id,
                course_title=course.title,
                ends_at=row.ends_at,
            ),
            institution_id=course.institution_id,
            user_id=row.user_id,
        )
        await notify(
            session,
            user_id=row.user_id,
            institution_id=course.institution_id,
            kind=EnrollmentExpiring.type,
            title=f"Your access to {course.title} ends on {row.ends_at:%Y-%m-%d %H:%M} UTC",
            link=f"/courses/{row.course_id}",
        )
    return len(ending)


async def run_expiry(
    session: AsyncSession, notice_days: int, now: datetime | None = None
) -> ExpiryRun:
    """One pass of the job in the caller's transaction; nothing when another process runs it."""
    if session.get_bind().dialect.name == "postgresql":
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": EXPIRY_LOCK_KEY}
        )
        if not locked:
            return ExpiryRun(0, 0)
    now = now or utcnow()
    return ExpiryRun(
        await expire_due(session, now), await tell_ending_soon(session, now, notice_days)
    )


async def expiry_once(database: Database, notice_days: int) -> ExpiryRun:
    """Run the job until nothing is due, a batch per transaction."""
    expired = notified = 0
    while True:
        run = await database.run(lambda session: run_expiry(session, notice_days))
        expired, notified = expired + run.expired, notified + run.notified
        if run.expired < BATCH:
            return ExpiryRun(expired, notified)


def expiry_rounds(database: Database, interval_s: float, notice_days: int) -> Rounds:
    """The job every `interval_s` seconds (app lifespan: start it, then stop it)."""
    return Rounds(
        partial(expiry_once, database, notice_days),
        name="the enrollment expiry job",
        pause=interval_s,
        first_after=interval_s,
    )
