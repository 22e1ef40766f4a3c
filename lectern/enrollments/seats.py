"""Seats: a course with a `seat_limit` holds at most that many active and completed enrollments,
and where it keeps a waitlist the learners beyond it wait in line, first come first served.

A seat is taken under a lock on the course's row: on PostgreSQL `SELECT … FOR NO KEY UPDATE`,
then the count in a statement of its own, whose snapshot (read committed) sees every enrollment
committed before the lock was granted; SQLite runs one writer at a time. The lock is held until
the transaction ends, so the count cannot go stale between the check and the insert. Courses
without a limit take no lock.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Course, Enrollment, WaitlistEntry
from lectern.models.base import UTCDateTime
from lectern.models.enums import EnrollmentSource, EnrollmentStatus
from lectern.platform.db import insert_of
from lectern.platform.prepared import Prepared

COURSES = Course.metadata.tables["courses"]
ENROLLMENTS = Enrollment.metadata.tables["enrollments"]
WAITLIST = WaitlistEntry.metadata.tables["waitlist_entries"]
SEATED = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


@dataclass(frozen=True, slots=True)
class CourseTerms:
    """What a course says about who may take a seat, and for how long."""

    seat_limit: int | None
    waitlist: bool
    access_days: int | None


_TERMS = Prepared(
    select(COURSES.c.seat_limit, COURSES.c.waitlist, COURSES.c.access_days).where(
        COURSES.c.id == bindparam("course_id")
    )
)


def _locked_limit(dialect_name: str) -> Any:
    statement = select(COURSES.c.seat_limit).where(COURSES.c.id == bindparam("course_id"))
    return statement.with_for_update(key_share=True) if dialect_name == "postgresql" else statement


_LOCKED_LIMIT = Prepared(_locked_limit)
_SEATS_TAKEN = Prepared(
    select(func.count())
    .select_from(ENROLLMENTS)
    .where(
        ENROLLMENTS.c.course_id == bindparam("course_id"),
        (ENROLLMENTS.c.status == EnrollmentStatus.ACTIVE)
        | (ENROLLMENTS.c.status == EnrollmentStatus.COMPLETED),
    )
)


async def course_terms(session: AsyncSession, course_id: int) -> CourseTerms:
    row = await _TERMS.one(session, {"course_id": course_id})
    return CourseTerms(row.seat_limit, bool(row.waitlist), row.access_days)


async def seat_free(session: AsyncSession, course_id: int) -> bool:
    """Whether a seat is free, holding the course's seats until the transaction ends."""
    parameters = {"course_id": course_id}
    limit = (await _LOCKED_LIMIT.one(session, parameters)).seat_limit
    if limit is None:
        return True
    return bool((await _SEATS_TAKEN.one(session, parameters))[0] < limit)


async def terms_of(session: AsyncSession, course_ids: Collection[int]) -> dict[int, CourseTerms]:
    """Each course's terms, in one statement."""
    rows = await session.execute(
        select(COURSES.c.id, COURSES.c.seat_limit, COURSES.c.waitlist, COURSES.c.access_days).where(
            COURSES.c.id.in_(sorted(course_ids))
        )
    )
    return {
        row.id: CourseTerms(row.seat_limit, bool(row.waitlist), row.access_days) for row in rows
    }


async def seats_left(session: AsyncSession, course_ids: Collection[int]) -> dict[int, int]:
    """The free seats of each course with a limit, holding their seats until the transaction
    ends: the courses' rows are locked in id order, then counted (see the module's note)."""
    locked = select(COURSES.c.id, COURSES.c.seat_limit).where(
        COURSES.c.id.in_(sorted(course_ids)), COURSES.c.seat_limit.is_not(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        locked = locked.order_by(COURSES.c.id).with_for_update(key_share=True)
    limits = {row.id: row.seat_limit for row in await session.execute(locked)}
    if not limits:
        return {}
    taken = await seats_taken(session, list(limits))
    return {course_id: limit - taken.get(course_id, 0) for course_id, limit in limits.items()}


async def seats_taken(session: AsyncSession, course_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Enrollment.course_id, func.count())
        .where(Enrollment.course_id.in_(course_ids), Enrollment.status.in_(SEATED))
        .group_by(Enrollment.course_id)
    )
    return {course_id: count for course_id, count in rows}


def _join(dialect_name: str) -> Any:
    return (
        insert_of(dialect_name)(WAITLIST)
        .values(
            course_id=bindparam("course_id"),
            user_id=bindparam("user_id"),
            source=bindparam("source"),
            created_at=bindparam("now", type_=UTCDateTime()),
        )
        .on_conflict_do_nothing(index_elements=["course_id", "user_id"])
        .returning(WAITLIST.c.id)
    )


_JOIN = Prepared(_join)
_MINE = (
    select(WAITLIST.c.id)
    .where(
        WAITLIST.c.course_id == bindparam("course_id"), WAITLIST.c.user_id == bindparam("user_id")
    )
    .scalar_subquery()
)
_POSITION = Prepared(
    select(func.count()).where(
        WAITLIST.c.course_id == bindparam("course_id"), WAITLIST.c.id <= _MINE
    )
)
_LEAVE = Prepared(
    delete(WAITLIST)
    .where(
        WAITLIST.c.course_id == bindparam("course_id"), WAITLIST.c.user_id == bindparam("user_id")
    )
    .returning(WAITLIST.c.id)
)
_FIRST_IN_LINE = Prepared(
    select(WAITLIST.c.user_id, WAITLIST.c.source)
    .where(WAITLIST.c.course_id == bindparam("course_id"))
    .order_by(WAITLIST.c.id)
    .limit(1)
)


async def join_waitlist(
    session: AsyncSession, user_id: int, course_id: int, source: EnrollmentSource, now: Any
) -> tuple[int, bool]:
    """Put the learner in line (once); their position, and whether they joined now."""
    pair = {"course_id": course_id, "user_id": user_id}
    joined = await _JOIN.one_or_none(session, pair | {"source": source, "now": now})
    position = await waitlist_position(session, user_id, course_id)
    assert position is not None
    return position, joined is not None


async def waitlist_position(session: AsyncSession, user_id: int, course_id: int) -> int | None:
    """1 for the next learner to get a seat; None when not waiting."""
    row = await _POSITION.one(session, {"course_id": course_id, "user_id": user_id})
    return int(row[0]) or None


async def leave_waitlist(session: AsyncSession, user_id: int, course_id: int) -> bool:
    left = await _LEAVE.one_or_none(session, {"course_id": course_id, "user_id": user_id})
    return left is not None


async def leave_waitlists(session: AsyncSession, course_id: int, user_ids: Collection[int]) -> None:
    """Take these learners out of the course's line (those enrolled now)."""
    for start in range(0, len(ordered := sorted(user_ids)), 5000):
        await session.execute(
            delete(WAITLIST).where(
                WAITLIST.c.course_id == course_id,
                WAITLIST.c.user_id.in_(ordered[start : start + 5000]),
            )
        )


async def empty_waitlist(session: AsyncSession, course_id: int) -> list[int]:
    """Take everyone out of the course's line; who was waiting, first in line first."""
    left = await session.execute(
        delete(WAITLIST)
        .where(WAITLIST.c.course_id == course_id)
        .returning(WAITLIST.c.id, WAITLIST.c.user_id)
    )
    return [row.user_id for row in sorted(left, key=lambda row: row.id)]


async def first_in_line(session: AsyncSession, course_id: int) -> Any:
    """The waiting learner to get the next seat (`user_id`, `source`), if any."""
    return await _FIRST_IN_LINE.one_or_none(session, {"course_id": course_id})


async def waitlist_positions(
    session: AsyncSession, user_id: int, course_ids: list[int]
) -> dict[int, int]:
    """The learner's place in each of these courses' waitlists that they are in."""
    mine = WaitlistEntry.__table__.alias("mine")
    rows = await session.execute(
        select(mine.c.course_id, func.count())
        .join(WAITLIST, (WAITLIST.c.course_id == mine.c.course_id) & (WAITLIST.c.id <= mine.c.id))
        .where(mine.c.user_id == user_id, mine.c.course_id.in_(course_ids))
        .group_by(mine.c.course_id)
    )
    return {course_id: count for course_id, count in rows}
