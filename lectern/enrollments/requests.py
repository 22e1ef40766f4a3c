"""Access requests: a learner asks, an admin approves or rejects, the learner may withdraw.

Requests are history: they change status and are never deleted. Each command holds the pair's
lock (see `lectern.enrollments.service`), so no pending request is left beside an enrollment.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.actor import Actor
from lectern.db import insert_for
from lectern.enrollments.rules import is_enrolled, request_enrolls_at_once
from lectern.enrollments.service import (
    current_enrollment,
    enroll,
    lock_pair,
    lock_pair_of_request,
    request_payload,
    require_student,
    visible_course,
)
from lectern.errors import Conflict, Forbidden, NotFound
from lectern.events.service import record_event
from lectern.models import AccessRequest, Course, Enrollment
from lectern.models.base import utcnow
from lectern.models.enums import Audience, CourseAccess, EnrollmentSource, RequestStatus
from lectern.notifications.service import notify, notify_admins


@dataclass(frozen=True, slots=True)
class RequestResult:
    request: AccessRequest
    created: bool
    enrollment: Enrollment | None = None


async def request_access(session: AsyncSession, actor: Actor, course_id: int) -> RequestResult:
    """Ask for a course; the pending request already there is returned, not doubled."""
    course = await visible_course(session, actor, course_id)
    require_student(actor)
    await lock_pair(session, actor.id, course.id)
    current = await current_enrollment(session, actor.id, course.id)
    if current is not None and is_enrolled(current.status):
        raise Conflict("You are already enrolled in this course.", slug="already-enrolled")
    if course.access == CourseAccess.PAID:
        raise Conflict("This course is sold; buy it to enroll.", slug="payment-required")
    now = utcnow()
    if request_enrolls_at_once(course.access):
        request = AccessRequest(
            user_id=actor.id,
            course_id=course.id,
            status=RequestStatus.APPROVED,
            note="Open course: enrolled at once.",
            created_at=now,
            reviewed_at=now,
        )
        session.add(request)
        await session.flush()
        result = await enroll(
            session, user_id=actor.id, course=course, source=EnrollmentSource.SELF
        )
        return RequestResult(request, True, result.enrollment)
    insert = insert_for(session)
    request_id = await session.scalar(
        insert(AccessRequest)
        .values(
            user_id=actor.id,
            course_id=course.id,
            status=RequestStatus.PENDING,
            note="",
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["user_id", "course_id"],
            # A literal, not a parameter: PostgreSQL matches the partial index by its predicate,
            # and a generic plan of a prepared statement cannot see a parameter's value.
            index_where=text("status = 'pending'"),
        )
        .returning(AccessRequest.id)
    )
    if request_id is None:
        pending = (
            await session.scalars(
                select(AccessRequest).where(
                    AccessRequest.user_id == actor.id,
                    AccessRequest.course_id == course.id,
                    AccessRequest.status == RequestStatus.PENDING,
                )
            )
        ).one()
        return RequestResult(pending, False)
    request = await session.get_one(AccessRequest, request_id)
    await record_event(
        session,
        "request.created",
        institution_id=course.institution_id,
        user_id=actor.id,
        audience=Audience.BOTH,
        payload={
            **request_payload(request),
            "course_title": course.title,
            "learner_name": actor.full_name,
        },
    )
    await notify_admins(
        session,
        institution_id=course.institution_id,
        kind="request.created",
        title=f"{actor.full_name} asks to join {course.title}",
        link="/admin/requests",
    )
    return RequestResult(request, True)


_REQUEST_WITH_COURSE = (
    select(AccessRequest, Course)
    .join(Course, Course.id == AccessRequest.course_id)
    .where(AccessRequest.id == bindparam("request_id"))
    .execution_options(populate_existing=True)
)


async def _request_in_scope(
    session: AsyncSession, actor: Actor, request_id: int
) -> tuple[AccessRequest, Course]:
    row = (await session.execute(_REQUEST_WITH_COURSE, {"request_id": request_id})).first()
    if row is None:
        raise NotFound("No such access request.")
    request, course = row
    if actor.is_admin:
        if course.institution_id != actor.institution_id:
            raise NotFound("No such access request.")
    elif request.user_id != actor.id:
        raise NotFound("No such access request.")
    return request, course


async def _review(
    session: AsyncSession, actor: Actor, request_id: int
) -> tuple[AccessRequest, Course]:
    if not actor.is_admin:
        raise Forbidden("Only an admin reviews access requests.")
    await lock_pair_of_request(session, request_id)
    request, course = await _request_in_scope(session, actor, request_id)
    await lock_pair(session, request.user_id, course.id)
    return request, course


async def approve_request(
    session: AsyncSession, actor: Actor, request_id: int, note: str = ""
) -> RequestResult:
    """Approve a pending request and enroll its learner; approving it again changes nothing."""
    request, course = await _review(session, actor, request_id)
    if request.status == RequestStatus.APPROVED:
        return RequestResult(
            request, False, await current_enrollment(session, request.user_id, course.id)
        )
    if request.status != RequestStatus.PENDING:
        raise Conflict(f"This request is {request.status}.", slug="request-closed")
    request.status = RequestStatus.APPROVED
    request.reviewer_id = actor.id
    request.reviewed_at = utcnow()
    request.note = note
    await session.flush()
    result = await enroll(
        session,
        user_id=request.user_id,
        course=course,
        source=EnrollmentSource.REQUEST,
        reviewer_id=actor.id,
        close_pending=False,
    )
    await record_event(
        session,
        "request.approved",
        institution_id=course.institution_id,
        user_id=request.user_id,
        audience=Audience.BOTH,
        payload={**request_payload(request), "course_title": course.title},
    )
    await notify(
        session,
        user_id=request.user_id,
        institution_id=course.institution_id,
        kind="request.approved",
        title=f"You are enrolled in {course.title}",
        body=note,
        link=f"/courses/{course.id}",
    )
    return RequestResult(request, True, result.enrollment)


async def reject_request(
    session: AsyncSession, actor: Actor, request_id: int, note: str = ""
) -> RequestResult:
    """Reject a pending request with a note; rejecting it again changes nothing."""
    request, course = await _review(session, actor, request_id)
    if request.status == RequestStatus.REJECTED:
        return RequestResult(request, False)
    if request.status != RequestStatus.PENDING:
        raise Conflict(f"This request is {request.status}.", slug="request-closed")
    request.status = RequestStatus.REJECTED
    request.reviewer_id = actor.id
    request.reviewed_at = utcnow()
    request.note = note
    await session.flush()
    await record_event(
        session,
        "request.rejected",
        institution_id=course.institution_id,
        user_id=request.user_id,
        audience=Audience.BOTH,
        payload={**request_payload(request), "course_title": course.title},
    )
    await notify(
        session,
        user_id=request.user_id,
        institution_id=course.institution_id,
        kind="request.rejected",
        title=f"Your request for {course.title} was declined",
        body=note,
        link="/catalog",
    )
    return RequestResult(request, True)


async def cancel_request(session: AsyncSession, actor: Actor, request_id: int) -> RequestResult:
    """The student withdraws their pending request; withdrawing it again changes nothing."""
    await lock_pair_of_request(session, request_id)
    request, course = await _request_in_scope(session, actor, request_id)
    if request.user_id != actor.id:
        raise NotFound("No such access request.")
    await lock_pair(session, request.user_id, course.id)
    if request.status == RequestStatus.CANCELLED:
        return RequestResult(request, False)
    if request.status != RequestStatus.PENDING:
        raise Conflict(f"This request is {request.status}.", slug="request-closed")
    request.status = RequestStatus.CANCELLED
    request.reviewed_at = utcnow()
    await session.flush()
    await record_event(
        session,
        "request.cancelled",
        institution_id=course.institution_id,
        user_id=request.user_id,
        audience=Audience.BOTH,
        payload=request_payload(request),
    )
    return RequestResult(request, True)
