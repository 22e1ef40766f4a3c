"""Access requests: a learner asks, an admin approves or rejects, the learner may withdraw.

Requests are history: they change status and are never deleted. Each command holds the pair's
lock (see `lectern.enrollments.pair`), so no pending request is left beside an enrollment.
A review closes the request with one guarded UPDATE: only a pending request in the reviewer's
scope changes, and anything else is read back to tell "already done" from "not allowed".
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.pair import (
    REQUESTS,
    Change,
    EnrollmentRow,
    RequestRow,
    WhenFull,
    current_enrollment,
    enroll,
    lock_pair,
    lock_pair_of_request,
    request_payload,
)
from lectern.enrollments.rules import is_enrolled, request_enrolls_at_once
from lectern.enrollments.service import require_enrollment_open, require_student, visible_course
from lectern.events.service import record_event
from lectern.events.types import REQUEST_CLOSED, RequestCancelled, RequestCreated
from lectern.models import Course
from lectern.models.base import UTCDateTime, utcnow
from lectern.models.enums import CourseAccess, EnrollmentSource, RequestStatus
from lectern.notifications.service import notify, notify_admins
from lectern.platform.actor import Actor
from lectern.platform.db import insert_of
from lectern.platform.errors import Conflict, Forbidden, NotFound
from lectern.platform.prepared import Prepared
from lectern.staff.rules import CourseAction, may, roles_allowed
from lectern.staff.service import course_role

COURSES = Course.metadata.tables["courses"]
STAFF = Course.metadata.tables["course_staff"]


@dataclass(frozen=True, slots=True)
class RequestResult:
    request: RequestRow | None  # None only when the learner was waitlisted instead
    created: bool
    enrollment: EnrollmentRow | None = None
    waitlist_position: int | None = None


@dataclass(frozen=True, slots=True)
class RequestedCourse:
    id: int
    institution_id: int
    title: str


def _insert_request(dialect_name: str) -> Any:
    """A new request of the pair; nothing when one is pending already."""
    return (
        insert_of(dialect_name)(REQUESTS)
        .values(
            user_id=bindparam("user_id"),
            course_id=bindparam("course_id"),
            status=bindparam("status"),
            note=bindparam("note"),
            created_at=bindparam("now", type_=UTCDateTime()),
            reviewed_at=bindparam("reviewed_at", type_=UTCDateTime()),
        )
        .on_conflict_do_nothing(
            index_elements=["user_id", "course_id"],
            # A literal, not a parameter: PostgreSQL matches the partial index by its predicate,
            # and a generic plan of a prepared statement cannot see a parameter's value.
            index_where=text("status = 'pending'"),
        )
        .returning(*REQUESTS.c)
    )


_INSERT_REQUEST = Prepared(_insert_request)
_PENDING_OF_PAIR = Prepared(
    select(REQUESTS).where(
        REQUESTS.c.user_id == bindparam("user_id"),
        REQUESTS.c.course_id == bindparam("course_id"),
        REQUESTS.c.status == RequestStatus.PENDING,
    )
)


async def request_access(session: AsyncSession, actor: Actor, course_id: int) -> RequestResult:
    """Ask for a course inside its enrollment window; the pending request already there is
    returned, not doubled. Asking for a full open course joins its waitlist, if it keeps one."""
    course = await visible_course(session, actor, course_id)
    require_student(actor)
    await lock_pair(session, actor.id, course.id)
    current = await current_enrollment(session, actor.id, course.id)
    if current is not None and is_enrolled(current.status):
        raise Conflict("You are already enrolled in this course.", slug="already-enrolled")
    if course.access == CourseAccess.PAID:
        raise Conflict("This course is sold; buy it to enroll.", slug="payment-required")
    require_enrollment_open(course)
    now = utcnow()
    pair = {"user_id": actor.id, "course_id": course.id, "now": now}
    if request_enrolls_at_once(course.access):
        result = await enroll(
            session,
            user_id=actor.id,
            course=course,
            source=EnrollmentSource.SELF,
            when_full=WhenFull.WAIT,
        )
        if result.change == Change.WAITLISTED:
            return RequestResult(None, True, None, result.waitlist_position)
        enrolled = {"status": RequestStatus.APPROVED, "reviewed_at": now}
        note = {"note": "Open course: enrolled at once."}
        request = await _INSERT_REQUEST.one(session, pair | enrolled | note)
        return RequestResult(request, True, result.enrollment)
    pending = {"status": RequestStatus.PENDING, "reviewed_at": None, "note": ""}
    created = await _INSERT_REQUEST.one_or_none(session, pair | pending)
    if created is None:
        existing = await _PENDING_OF_PAIR.one(session, pair)
        return RequestResult(existing, False)
    record_event(
        session,
        RequestCreated(
            **request_payload(created), course_title=course.title, learner_name=actor.full_name
        ),
        institution_id=course.institution_id,
        user_id=actor.id,
    )
    await notify_admins(
        session,
        institution_id=course.institution_id,
        kind="request.created",
        title=f"{actor.full_name} asks to join {course.title}",
        link="/admin/requests",
    )
    return RequestResult(created, True)


def _closing(scope: ColumnElement[bool], **values: Any) -> Update:
    """Close a pending request in scope, returning it with its course's title and owner."""
    course_of_request = COURSES.c.id == REQUESTS.c.course_id
    return (
        update(REQUESTS)
        .where(
            REQUESTS.c.id == bindparam("request_id"),
            REQUESTS.c.status == RequestStatus.PENDING,
            scope,
        )
        .values(
            status=bindparam("new_status"),
            reviewed_at=bindparam("new_reviewed_at", type_=UTCDateTime()),
            **values,
        )
        .returning(
            *REQUESTS.c,
            select(COURSES.c.title).where(course_of_request).scalar_subquery().label("title"),
            select(COURSES.c.institution_id)
            .where(course_of_request)
            .scalar_subquery()
            .label("institution_id"),
        )
    )


_REVIEWED: dict[str, Any] = {
    "reviewer_id": bindparam("new_reviewer_id"),
    "note": bindparam("new_note"),
}
_CLOSE_AS_REVIEWER = Prepared(
    _closing(
        REQUESTS.c.course_id.in_(
            select(COURSES.c.id).where(COURSES.c.institution_id == bindparam("institution_id"))
        ),
        **_REVIEWED,
    )
)
# An instructor or teaching assistant reviews the requests of the courses they are staff of.
_CLOSE_AS_COURSE_STAFF = Prepared(
    _closing(
        REQUESTS.c.course_id.in_(
            select(STAFF.c.course_id)
            .join(COURSES, COURSES.c.id == STAFF.c.course_id)
            .where(
                STAFF.c.user_id == bindparam("new_reviewer_id"),
                # Literals: a prepared statement takes no IN list of parameters.
                STAFF.c.role.in_(
                    [literal_column(f"'{r}'") for r in roles_allowed(CourseAction.REVIEW_REQUESTS)]
                ),
                COURSES.c.institution_id == bindparam("institution_id"),
            )
        ),
        **_REVIEWED,
    )
)
_CLOSE_AS_LEARNER = Prepared(_closing(REQUESTS.c.user_id == bindparam("learner_id")))
_REQUEST_WITH_COURSE = Prepared(
    select(REQUESTS, COURSES.c.title, COURSES.c.institution_id)
    .join(COURSES, COURSES.c.id == REQUESTS.c.course_id)
    .where(REQUESTS.c.id == bindparam("request_id"))
)


async def _close(
    session: AsyncSession,
    actor: Actor,
    request_id: int,
    status: RequestStatus,
    *,
    as_reviewer: bool,
    note: str = "",
) -> tuple[RequestRow, RequestedCourse, bool]:
    """Close a pending request under its pair's lock: a reviewer's in their institution (in the
    courses they are staff of, unless an admin), a learner's of their own. Returns it, its
    course, and whether it was closed now (false: it was closed with `status` before)."""
    await lock_pair_of_request(session, request_id)
    parameters = {"request_id": request_id, "new_status": status, "new_reviewed_at": utcnow()}
    if as_reviewer:
        statement = _CLOSE_AS_REVIEWER if actor.is_admin else _CLOSE_AS_COURSE_STAFF
        parameters |= {
            "institution_id": actor.institution_id,
            "new_reviewer_id": actor.id,
            "new_note": note,
        }
    else:
        statement = _CLOSE_AS_LEARNER
        parameters |= {"learner_id": actor.id}
    request = await statement.one_or_none(session, parameters)
    closed_now = request is not None
    if request is None:
        request = await _REQUEST_WITH_COURSE.one_or_none(session, {"request_id": request_id})
        in_scope = request is not None and (
            request.institution_id == actor.institution_id
            if as_reviewer
            else request.user_id == actor.id
        )
        if request is None or not in_scope:
            raise NotFound("No such access request.")
        if as_reviewer and not actor.is_admin:
            await _may_review(session, actor, request.course_id)
        if request.status != status:
            raise Conflict(f"This request is {request.status}.", slug="request-closed")
    course = RequestedCourse(request.course_id, request.institution_id, request.title)
    await lock_pair(session, request.user_id, course.id)
    return request, course, closed_now


def _require_reviewer(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("Only admins and course staff review access requests.")


async def _may_review(session: AsyncSession, actor: Actor, course_id: int) -> None:
    """A request of a course the reviewer is not staff of is not found; one of a course where
    their role does not review is forbidden."""
    role = await course_role(session, actor.id, course_id)
    if role is None:
        raise NotFound("No such access request.")
    if not may(actor, role, CourseAction.REVIEW_REQUESTS):
        raise Forbidden(f"Your role in this course ({role}) does not review requests.")


async def _tell_learner(
    session: AsyncSession,
    request: RequestRow,
    course: RequestedCourse,
    *,
    title: str,
    note: str,
    link: str,
) -> None:
    """Record a review as `request.<its new status>` and notify the learner of it."""
    reviewed = REQUEST_CLOSED[RequestStatus(request.status)]
    kind = reviewed.type
    record_event(
        session,
        reviewed(**request_payload(request), course_title=course.title),
        institution_id=course.institution_id,
        user_id=request.user_id,
    )
    await notify(
        session,
        user_id=request.user_id,
        institution_id=course.institution_id,
        kind=kind,
        title=title,
        body=note,
        link=link,
    )


async def approve_request(
    session: AsyncSession, actor: Actor, request_id: int, note: str = ""
) -> RequestResult:
    """Approve a pending request and enroll its learner; approving it again changes nothing."""
    _require_reviewer(actor)
    request, course, closed_now = await _close(
        session, actor, request_id, RequestStatus.APPROVED, as_reviewer=True, note=note
    )
    if not closed_now:
        current = await current_enrollment(session, request.user_id, course.id)
        return RequestResult(request, False, current)
    result = await enroll(
        session,
        user_id=request.user_id,
        course=course,
        source=EnrollmentSource.REQUEST,
        reviewer_id=actor.id,
        close_pending=False,
    )
    await _tell_learner(
        session,
        request,
        course,
        title=f"You are enrolled in {course.title}",
        note=note,
        link=f"/courses/{course.id}",
    )
    return RequestResult(request, True, result.enrollment)


async def reject_request(
    session: AsyncSession, actor: Actor, request_id: int, note: str = ""
) -> RequestResult:
    """Reject a pending request with a note; rejecting it again changes nothing."""
    _require_reviewer(actor)
    request, course, closed_now = await _close(
        session, actor, request_id, RequestStatus.REJECTED, as_reviewer=True, note=note
    )
    if not closed_now:
        return RequestResult(request, False)
    await _tell_learner(
        session,
        request,
        course,
        title=f"Your request for {course.title} was declined",
        note=note,
        link="/catalog",
    )
    return RequestResult(request, True)


async def cancel_request(session: AsyncSession, actor: Actor, request_id: int) -> RequestResult:
    """The learner withdraws their pending request; withdrawing it again changes nothing."""
    request, course, closed_now = await _close(
        session, actor, request_id, RequestStatus.CANCELLED, as_reviewer=False
    )
    if not closed_now:
        return RequestResult(request, False)
    record_event(
        session,
        RequestCancelled(**request_payload(request)),
        institution_id=course.institution_id,
        user_id=request.user_id,
    )
    return RequestResult(request, True)
