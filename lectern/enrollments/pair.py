"""The enrollment pair's kernel: one row per (learner, course), changed only under the pair's lock.

Every command on a (learner, course) pair holds that pair's lock for its transaction, so the
rules that span tables (no pending request beside an enrollment; every approval has an
enrollment) hold under any concurrency. The unique indexes are the last line, never the check.
The commands in `service.py`, `requests.py`, payments and the audit's repairs all enroll,
cancel and close requests through these functions.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import bindparam, func, literal_column, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments import seats
from lectern.enrollments.rules import (
    access_ends_at,
    is_enrolled,
)
from lectern.events.service import record_event
from lectern.events.types import (
    REQUEST_CLOSED,
    EnrollmentCancelled,
    EnrollmentChanged,
    EnrollmentCreated,
    EnrollmentReactivated,
    WaitlistEnrolled,
    WaitlistJoined,
    WaitlistLeft,
)
from lectern.models import AccessRequest, Course, Enrollment
from lectern.models.base import UTCDateTime, utcnow
from lectern.models.enums import (
    EnrollmentSource,
    EnrollmentStatus,
    RequestStatus,
)
from lectern.notifications.service import notify
from lectern.platform.db import insert_of
from lectern.platform.errors import Conflict
from lectern.platform.prepared import Prepared
from lectern.platform.transaction import transaction_of
from lectern.progress.service import lock_enrollments, recompute_progress


class Change(StrEnum):
    CREATED = "created"
    REACTIVATED = "reactivated"
    UNCHANGED = "unchanged"
    WAITLISTED = "waitlisted"


class WhenFull(StrEnum):
    """What enrolling into a course whose seats are all taken does."""

    REFUSE = "refuse"  # a 409 course-full problem
    WAIT = "wait"  # the learner joins the waitlist where the course keeps one, else REFUSE
    OVERRIDE = "override"  # enrolled beyond the limit (an admin's explicit choice, a payment)


class CourseRef(Protocol):
    """What the enrollment commands need to know of a course."""

    @property
    def id(self) -> int: ...
    @property
    def institution_id(self) -> int: ...
    @property
    def title(self) -> str: ...


# Commands read and write these tables with prepared Core statements: on the hot path of every
# approval, the ORM's unit of work and entity loading cost more than the SQL itself.
ENROLLMENTS = Enrollment.metadata.tables["enrollments"]
REQUESTS = AccessRequest.metadata.tables["access_requests"]
# A row of `enrollments` or `access_requests`: a named tuple of its columns (see Prepared).
EnrollmentRow = Any
RequestRow = Any


@dataclass(frozen=True, slots=True)
class EnrollResult:
    enrollment: EnrollmentRow | None  # None only when waitlisted without an earlier enrollment
    change: Change
    waitlist_position: int | None = None

    @property
    def changed(self) -> bool:
        return self.change != Change.UNCHANGED


def enrollment_payload(enrollment: Any) -> dict[str, Any]:
    return {
        "id": enrollment.id,
        "user_id": enrollment.user_id,
        "course_id": enrollment.course_id,
        "status": enrollment.status,
        "source": enrollment.source,
        "progress": enrollment.progress,
        "completed_at": enrollment.completed_at.isoformat() if enrollment.completed_at else None,
        "ends_at": enrollment.ends_at.isoformat() if enrollment.ends_at else None,
    }


def request_payload(request: Any) -> dict[str, Any]:
    return {
        "id": request.id,
        "user_id": request.user_id,
        "course_id": request.course_id,
        "status": request.status,
        "note": request.note,
        "created_at": request.created_at.isoformat(),
        "reviewed_at": request.reviewed_at.isoformat() if request.reviewed_at else None,
    }


async def lock_pair(session: AsyncSession, user_id: int, course_id: int) -> None:
    """Serialize the commands on one learner and course until the transaction ends."""
    held = transaction_of(session).pair_locks
    if (user_id, course_id) in held:
        return
    if session.get_bind().dialect.name == "postgresql":
        await _LOCK_PAIR.run(session, {"user_id": user_id, "course_id": course_id})
    held.add((user_id, course_id))


_LOCK_PAIR = Prepared(text("SELECT pg_advisory_xact_lock(:user_id, :course_id)"))
_LOCK_PAIR_OF_REQUEST = Prepared(
    select(
        REQUESTS.c.user_id,
        REQUESTS.c.course_id,
        func.pg_advisory_xact_lock(REQUESTS.c.user_id, REQUESTS.c.course_id),
    ).where(REQUESTS.c.id == bindparam("request_id"))
)


async def lock_pair_of_request(session: AsyncSession, request_id: int) -> None:
    """Take the lock of a request's pair in the statement that finds the pair (PostgreSQL);
    whatever is read of the request afterwards is read under the lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    pair = await _LOCK_PAIR_OF_REQUEST.one_or_none(session, {"request_id": request_id})
    if pair is not None:
        transaction_of(session).pair_locks.add((pair.user_id, pair.course_id))


def enrollment_upsert(dialect_name: str) -> Any:
    """Insert the pair's enrollment or reactivate its cancelled or expired one, returning the
    row if it changed."""
    statement = insert_of(dialect_name)(ENROLLMENTS).values(
        user_id=bindparam("user_id"),
        course_id=bindparam("course_id"),
        status=EnrollmentStatus.ACTIVE,
        source=bindparam("source"),
        progress=0.0,
        ends_at=bindparam("ends_at", type_=UTCDateTime()),
        created_at=bindparam("created_at", type_=UTCDateTime()),
        updated_at=bindparam("updated_at", type_=UTCDateTime()),
    )
    # No bound parameter past VALUES: SQLAlchemy then sends many rows' upserts in one statement.
    return statement.on_conflict_do_update(
        index_elements=["user_id", "course_id"],
        set_={
            "status": statement.excluded.status,
            "source": statement.excluded.source,
            "completed_at": null(),
            "ends_at": statement.excluded.ends_at,
            "expiry_notified_at": null(),
            "updated_at": statement.excluded.updated_at,
        },
        where=ENROLLMENTS.c.status.in_(
            [
                literal_column(f"'{EnrollmentStatus.CANCELLED}'"),
                literal_column(f"'{EnrollmentStatus.EXPIRED}'"),
            ]
        ),
    ).returning(*ENROLLMENTS.c)


_UPSERT_ENROLLMENT = Prepared(enrollment_upsert)
_ENROLLMENT_OF_PAIR = Prepared(
    select(ENROLLMENTS).where(
        ENROLLMENTS.c.user_id == bindparam("user_id"),
        ENROLLMENTS.c.course_id == bindparam("course_id"),
    )
)


async def current_enrollment(
    session: AsyncSession, user_id: int, course_id: int
) -> EnrollmentRow | None:
    return await _ENROLLMENT_OF_PAIR.one_or_none(
        session, {"user_id": user_id, "course_id": course_id}
    )


async def enroll(
    session: AsyncSession,
    *,
    user_id: int,
    course: CourseRef,
    source: EnrollmentSource,
    reviewer_id: int | None = None,
    close_pending: bool = True,
    when_full: WhenFull = WhenFull.REFUSE,
    ends_at: datetime | None = None,
) -> EnrollResult:
    """Enroll a learner, or reactivate their cancelled or expired enrollment; enrolled already
    is a no-op. A full course refuses, waitlists or admits them as `when_full` says.

    Any pending request of the pair is approved with it, so none is left beside the enrollment
    (`close_pending=False` only for a caller that has just closed it under the pair's lock).
    `ends_at` defaults to the course's access duration for the ways in it applies to.
    """
    await lock_pair(session, user_id, course.id)
    current = await current_enrollment(session, user_id, course.id)
    if current is not None and is_enrolled(current.status):
        return EnrollResult(current, Change.UNCHANGED)
    now = utcnow()
    terms = await seats.course_terms(session, course.id)
    limited = terms.seat_limit is not None
    if limited and when_full != WhenFull.OVERRIDE and not await seats.seat_free(session, course.id):
        if when_full == WhenFull.WAIT and terms.waitlist:
            return await _wait_for_seat(session, user_id, course, source, current, now)
        raise Conflict(
            f"{course.title} has no seat left.", slug="course-full", seat_limit=terms.seat_limit
        )
    parameters = {
        "user_id": user_id,
        "course_id": course.id,
        "source": source,
        "created_at": now,
        "updated_at": now,
        "ends_at": ends_at or access_ends_at(source, terms.access_days, now),
    }
    enrollment = await _UPSERT_ENROLLMENT.one(session, parameters)
    if limited or terms.waitlist:
        await seats.leave_waitlist(session, user_id, course.id)
    change = Change.CREATED if enrollment.created_at == now else Change.REACTIVATED
    if close_pending:
        await close_pending_request(
            session, user_id, course, RequestStatus.APPROVED, reviewer_id, "Enrolled."
        )
    started = EnrollmentCreated if change == Change.CREATED else EnrollmentReactivated
    record_event(
        session,
        started(**enrollment_payload(enrollment), course_title=course.title),
        institution_id=course.institution_id,
        user_id=user_id,
    )
    if change == Change.REACTIVATED:
        # The facts were kept while cancelled: recompute from them, completing if they suffice.
        await recompute_progress(session, await lock_enrollments(session, [enrollment.id]))
        enrollment = await current_enrollment(session, user_id, course.id)
        assert enrollment is not None
    return EnrollResult(enrollment, change)


async def _wait_for_seat(
    session: AsyncSession,
    user_id: int,
    course: CourseRef,
    source: EnrollmentSource,
    current: EnrollmentRow | None,
    now: datetime,
) -> EnrollResult:
    position, joined = await seats.join_waitlist(session, user_id, course.id, source, now)
    if joined:
        record_event(
            session,
            WaitlistJoined(
                user_id=user_id, course_id=course.id, course_title=course.title, position=position
            ),
            institution_id=course.institution_id,
            user_id=user_id,
        )
    return EnrollResult(current, Change.WAITLISTED, position)


async def close_waitlist(session: AsyncSession, course: CourseRef) -> None:
    """The course keeps no waitlist any more: those waiting leave it, each told by its event."""
    for position, user_id in enumerate(await seats.empty_waitlist(session, course.id), 1):
        record_event(
            session,
            WaitlistLeft(
                user_id=user_id, course_id=course.id, course_title=course.title, position=position
            ),
            institution_id=course.institution_id,
            user_id=user_id,
        )


async def fill_freed_seats(session: AsyncSession, course: CourseRef) -> None:
    """Give the course's free seats to the learners waiting longest, and tell each; called in
    the transaction that freed a seat (or raised the limit)."""
    while (waiting := await seats.first_in_line(session, course.id)) is not None:
        result = await enroll(
            session,
            user_id=waiting.user_id,
            course=course,
            source=EnrollmentSource(waiting.source),
            when_full=WhenFull.WAIT,
        )
        if result.change == Change.WAITLISTED:
            return
        if result.enrollment is None or result.change == Change.UNCHANGED:
            await seats.leave_waitlist(session, waiting.user_id, course.id)  # enrolled meanwhile
            continue
        record_event(
            session,
            WaitlistEnrolled(
                user_id=waiting.user_id,
                course_id=course.id,
                course_title=course.title,
                enrollment_id=result.enrollment.id,
            ),
            institution_id=course.institution_id,
            user_id=waiting.user_id,
        )
        await notify(
            session,
            user_id=waiting.user_id,
            institution_id=course.institution_id,
            kind=WaitlistEnrolled.type,
            title=f"A seat freed in {course.title}: you are enrolled",
            link=f"/courses/{course.id}",
        )


_CLOSE_PENDING = Prepared(
    update(REQUESTS)
    .where(
        REQUESTS.c.user_id == bindparam("pair_user_id"),
        REQUESTS.c.course_id == bindparam("pair_course_id"),
        REQUESTS.c.status == RequestStatus.PENDING,
    )
    .values(
        status=bindparam("new_status"),
        reviewer_id=bindparam("new_reviewer_id"),
        reviewed_at=bindparam("new_reviewed_at", type_=UTCDateTime()),
        note=bindparam("new_note"),
    )
    .returning(*REQUESTS.c)
)


async def close_pending_request(
    session: AsyncSession,
    user_id: int,
    course: CourseRef,
    status: RequestStatus,
    reviewer_id: int | None,
    note: str,
) -> None:
    """Close the pair's pending request, if any, as approved or cancelled; the caller holds
    the pair's lock."""
    closed = await _CLOSE_PENDING.all(
        session,
        {
            "pair_user_id": user_id,
            "pair_course_id": course.id,
            "new_status": status,
            "new_reviewer_id": reviewer_id,
            "new_reviewed_at": utcnow(),
            "new_note": note,
        },
    )
    for request in closed:
        record_event(
            session,
            REQUEST_CLOSED[status](**request_payload(request)),
            institution_id=course.institution_id,
            user_id=user_id,
        )


async def cancel_enrollment(
    session: AsyncSession, enrollment: Enrollment, course: Course, *, reason: str
) -> Enrollment:
    """Set an enrollment cancelled and tell the learner, giving its seat to the waitlist; the
    caller holds the pair's lock."""
    enrollment.status = EnrollmentStatus.CANCELLED
    await session.flush()
    await close_pending_request(
        session, enrollment.user_id, course, RequestStatus.CANCELLED, None, reason
    )
    await enrollment_ended(
        session,
        enrollment,
        course,
        EnrollmentCancelled,
        title=f"Your enrollment in {course.title} was cancelled",
        body=reason,
        link="/catalog",
    )
    return enrollment


async def enrollment_ended(
    session: AsyncSession,
    enrollment: EnrollmentRow,
    course: CourseRef,
    ended: type[EnrollmentChanged],
    *,
    title: str,
    body: str,
    link: str,
) -> None:
    """Record how an enrollment ended, tell its learner, and give its seat to the waitlist."""
    record_event(
        session,
        ended(**enrollment_payload(enrollment), course_title=course.title),
        institution_id=course.institution_id,
        user_id=enrollment.user_id,
    )
    await notify(
        session,
        user_id=enrollment.user_id,
        institution_id=course.institution_id,
        kind=ended.type,
        title=title,
        body=body,
        link=link,
    )
    await fill_freed_seats(session, course)
