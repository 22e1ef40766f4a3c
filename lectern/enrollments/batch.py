"""Many enrollment pairs in one go, as a roster file applies them: the kernel of `pair.py` (each
pair under its lock, one row per pair, its pending request closed, the same events) with each
step one statement for all the pairs, or for a thousand of them, instead of one per pair.

Pair locks are taken in one statement, in (user, course) order, so two batches never deadlock
on each other; a course's seats are locked after the pairs, as `pair.enroll` does.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments import seats
from lectern.enrollments.pair import (
    ENROLLMENTS,
    REQUESTS,
    CourseRef,
    EnrollmentRow,
    enrollment_payload,
    enrollment_upsert,
    request_payload,
)
from lectern.enrollments.rules import access_ends_at, is_enrolled
from lectern.events.service import record_event
from lectern.events.types import (
    REQUEST_CLOSED,
    EnrollmentCancelled,
    EnrollmentCreated,
    EnrollmentReactivated,
)
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentSource, EnrollmentStatus, RequestStatus
from lectern.platform.errors import Conflict
from lectern.platform.transaction import transaction_of
from lectern.progress.service import lock_enrollments, recompute_progress

# Rows per statement: at eight parameters a row, under SQLite's and asyncpg's bounds.
CHUNK = 1000

Pair = tuple[int, int]  # (user_id, course_id)
T = TypeVar("T")

# PostgreSQL's "out of shared memory": its lock table is full.
OUT_OF_LOCKS = "53200"
_LOCK_PAIRS = text(
    "SELECT count(pg_advisory_xact_lock(pair.user_id, pair.course_id)) "
    "FROM unnest(CAST(:user_ids AS integer[]), CAST(:course_ids AS integer[])) "
    "AS pair(user_id, course_id)"
)


@cache
def _upsert(dialect_name: str) -> Any:
    return enrollment_upsert(dialect_name)


@dataclass(frozen=True, slots=True)
class Placement:
    """A learner to enroll in a course, until `ends_at` if given."""

    user_id: int
    course_id: int
    ends_at: datetime | None = None

    @property
    def pair(self) -> Pair:
        return (self.user_id, self.course_id)


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def lock_pairs(session: AsyncSession, pairs: Iterable[Pair]) -> None:
    """`pair.lock_pair` for every pair, in one statement, in (user, course) order."""
    held = transaction_of(session).pair_locks
    wanted = sorted(set(pairs) - held)
    if not wanted:
        return
    if session.get_bind().dialect.name == "postgresql":
        parameters = {
            "user_ids": [user for user, _ in wanted],
            "course_ids": [course for _, course in wanted],
        }
        try:
            await session.execute(_LOCK_PAIRS, parameters)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != OUT_OF_LOCKS:
                raise
            raise Conflict(
                f"The database cannot hold a lock for each of these {len(wanted):,} pairs now;"
                " apply fewer at a time.",
                slug="too-many-pairs",
            ) from error
    held.update(wanted)


async def enrollments_of(session: AsyncSession, pairs: Collection[Pair]) -> dict[Pair, Any]:
    """The pairs' enrollments as they are, those that exist."""
    wanted = set(pairs)
    course_ids = sorted({course for _, course in wanted})
    found: dict[Pair, Any] = {}
    for users in chunks(sorted({user for user, _ in wanted}), 5 * CHUNK):
        for row in await session.execute(
            select(ENROLLMENTS).where(
                ENROLLMENTS.c.user_id.in_(users), ENROLLMENTS.c.course_id.in_(course_ids)
            )
        ):
            if (row.user_id, row.course_id) in wanted:
                found[(row.user_id, row.course_id)] = row
    return found


async def enroll_each(
    session: AsyncSession,
    placements: Sequence[Placement],
    courses: Mapping[int, CourseRef],
    *,
    source: EnrollmentSource,
    reviewer_id: int | None = None,
) -> list[EnrollmentRow]:
    """`pair.enroll` for each placement (one per pair), refusing them all with a 409
    `course-full` if a course lacks the seats; the enrollments created or reactivated."""
    await lock_pairs(session, (placement.pair for placement in placements))
    current = await enrollments_of(session, [placement.pair for placement in placements])
    todo = [
        p for p in placements if p.pair not in current or not is_enrolled(current[p.pair].status)
    ]
    if not todo:
        return []
    terms = await seats.terms_of(session, {placement.course_id for placement in todo})
    await _require_seats(session, todo, terms, courses)
    now = utcnow()
    rows = [
        {
            "user_id": p.user_id,
            "course_id": p.course_id,
            "source": source,
            "ends_at": p.ends_at or access_ends_at(source, terms[p.course_id].access_days, now),
            "created_at": now,
            "updated_at": now,
        }
        for p in todo
    ]
    # One statement, run for many rows: SQLAlchemy sends them a thousand to an INSERT.
    written = list(await session.execute(_upsert(session.get_bind().dialect.name), rows))
    written.sort(key=lambda row: (row.user_id, row.course_id))
    waiting: dict[int, list[int]] = defaultdict(list)
    for row in written:
        if terms[row.course_id].seat_limit is not None or terms[row.course_id].waitlist:
            waiting[row.course_id].append(row.user_id)
    for course_id, user_ids in waiting.items():
        await seats.leave_waitlists(session, course_id, user_ids)
    await close_pending_each(
        session, [(r.user_id, r.course_id) for r in written], courses,
        RequestStatus.APPROVED, reviewer_id, "Enrolled.",
    )  # fmt: skip
    reactivated = [row.id for row in written if row.created_at != now]
    for row in written:
        started = EnrollmentCreated if row.created_at == now else EnrollmentReactivated
        course = courses[row.course_id]
        record_event(
            session,
            started(**enrollment_payload(row), course_title=course.title),
            institution_id=course.institution_id,
            user_id=row.user_id,
        )
    if reactivated:
        # The facts were kept while cancelled: recompute from them, completing if they suffice.
        await recompute_progress(session, await lock_enrollments(session, reactivated))
    return written


async def _require_seats(
    session: AsyncSession,
    todo: Sequence[Placement],
    terms: Mapping[int, seats.CourseTerms],
    courses: Mapping[int, CourseRef],
) -> None:
    limited = {p.course_id for p in todo if terms[p.course_id].seat_limit is not None}
    if not limited:
        return
    left = await seats.seats_left(session, limited)
    wanted: dict[int, int] = defaultdict(int)
    for placement in todo:
        wanted[placement.course_id] += 1
    for course_id in sorted(limited):
        if wanted[course_id] > left.get(course_id, 0):
            raise Conflict(
                f"{courses[course_id].title} has no seat left.",
                slug="course-full",
                seat_limit=terms[course_id].seat_limit,
            )


async def close_pending_each(
    session: AsyncSession,
    pairs: Sequence[Pair],
    courses: Mapping[int, CourseRef],
    status: RequestStatus,
    reviewer_id: int | None,
    note: str,
) -> None:
    """`pair.close_pending_request` for each pair; the caller holds the pairs' locks."""
    wanted = set(pairs)
    if not wanted:
        return
    course_ids = sorted({course for _, course in wanted})
    pending: list[int] = []
    for users in chunks(sorted({user for user, _ in wanted}), 5 * CHUNK):
        for row in await session.execute(
            select(REQUESTS.c.id, REQUESTS.c.user_id, REQUESTS.c.course_id).where(
                REQUESTS.c.status == RequestStatus.PENDING,
                REQUESTS.c.user_id.in_(users),
                REQUESTS.c.course_id.in_(course_ids),
            )
        ):
            if (row.user_id, row.course_id) in wanted:
                pending.append(row.id)
    for ids in chunks(sorted(pending), 5 * CHUNK):
        closed = await session.execute(
            update(REQUESTS)
            .where(REQUESTS.c.id.in_(ids), REQUESTS.c.status == RequestStatus.PENDING)
            .values(status=status, reviewer_id=reviewer_id, reviewed_at=utcnow(), note=note)
            .returning(*REQUESTS.c)
        )
        for request in sorted(closed, key=lambda row: row.id):
            course = courses[request.course_id]
            record_event(
                session,
                REQUEST_CLOSED[status](**request_payload(request)),
                institution_id=course.institution_id,
                user_id=request.user_id,
            )


async def cancel_each(
    session: AsyncSession,
    enrollment_ids: Collection[int],
    courses: Mapping[int, CourseRef],
    *,
    reason: str,
) -> list[EnrollmentRow]:
    """Set these enrollments cancelled, those active or completed, closing their pairs' pending
    requests; the ones it cancelled. The caller holds the pairs' locks, tells the learners, and
    gives the freed seats to the waitlists (`pair.fill_freed_seats`) when its other rows are in."""
    cancelled: list[EnrollmentRow] = []
    for ids in chunks(sorted(enrollment_ids), 5 * CHUNK):
        cancelled.extend(
            await session.execute(
                update(ENROLLMENTS)
                .where(
                    ENROLLMENTS.c.id.in_(ids),
                    ENROLLMENTS.c.status.in_((EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)),
                )
                .values(status=EnrollmentStatus.CANCELLED, updated_at=utcnow())
                .returning(*ENROLLMENTS.c)
            )
        )
    cancelled.sort(key=lambda row: row.id)
    await close_pending_each(
        session, [(r.user_id, r.course_id) for r in cancelled], courses,
        RequestStatus.CANCELLED, None, reason,
    )  # fmt: skip
    for row in cancelled:
        course = courses[row.course_id]
        record_event(
            session,
            EnrollmentCancelled(**enrollment_payload(row), course_title=course.title),
            institution_id=course.institution_id,
            user_id=row.user_id,
        )
    return cancelled
