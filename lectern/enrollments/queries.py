"""Read models of enrollments and requests, for learners and for the admin queue."""

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.schemas import MyEnrollmentOut, QueuedRequestOut, WaitlistPlaceOut
from lectern.models import AccessRequest, Course, Enrollment, User, WaitlistEntry
from lectern.models.enums import RequestStatus
from lectern.platform.actor import Actor
from lectern.platform.keyset import NEWEST_FIRST, decode_cursor, encode_cursor
from lectern.staff.rules import CourseAction
from lectern.staff.service import course_for, courses_allowing

# A request with its course title and its learner's name and e-mail.
QueuedSelect = Select[AccessRequest, str, str, str]


async def my_enrollments(session: AsyncSession, user_id: int) -> list[MyEnrollmentOut]:
    rows = await session.execute(
        select(Enrollment, Course.title, Course.slug, Course.status)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user_id)
        .order_by(Enrollment.id)
    )
    return [
        MyEnrollmentOut.model_validate(
            {
                **enrollment.__dict__,
                "course_title": title,
                "course_slug": slug,
                "course_status": course_status,
            }
        )
        for enrollment, title, slug, course_status in rows
    ]


async def my_requests(session: AsyncSession, user_id: int) -> list[QueuedRequestOut]:
    return await _requests(session, select_requests().where(AccessRequest.user_id == user_id))


async def request_queue(
    session: AsyncSession,
    actor: Actor,
    *,
    status: RequestStatus | None,
    course_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    cursor: str | None = None,
) -> tuple[list[QueuedRequestOut], str | None]:
    """A page of the requests of the courses whose learners the actor sees (all of the
    institution's for an admin, those of the courses they are staff of for an instructor),
    newest first, from `cursor` (or `offset`), with the cursor of the next page if there may
    be one."""
    query = select_requests().where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
    if status is not None:
        query = query.where(AccessRequest.status == status)
    if course_id is not None:
        await course_for(session, actor, course_id, CourseAction.SEE_LEARNERS)
        query = query.where(AccessRequest.course_id == course_id)
    if cursor is not None:
        query = query.where(AccessRequest.id < decode_cursor(cursor, NEWEST_FIRST, (int,))[0])
    elif offset:
        query = query.offset(offset)
    found = await _requests(session, query.limit(limit + 1))
    if len(found) <= limit:
        return found, None
    return found[:limit], encode_cursor(NEWEST_FIRST, (found[limit - 1].id,))


def select_requests() -> QueuedSelect:
    return (
        select(AccessRequest, Course.title, User.full_name, User.email)
        .join(Course, Course.id == AccessRequest.course_id)
        .join(User, User.id == AccessRequest.user_id)
        .order_by(AccessRequest.id.desc())
    )


async def _requests(session: AsyncSession, query: QueuedSelect) -> list[QueuedRequestOut]:
    return [
        QueuedRequestOut.model_validate(
            {
                **request.__dict__,
                "course_title": title,
                "learner_name": name,
                "learner_email": email,
            }
        )
        for request, title, name, email in await session.execute(query)
    ]


async def my_waitlist(session: AsyncSession, user_id: int) -> list[WaitlistPlaceOut]:
    """The learner's places in the waitlists of full courses, 1 being next in line."""
    ahead = WaitlistEntry.__table__.alias("ahead")
    position = (
        select(func.count())
        .where(ahead.c.course_id == WaitlistEntry.course_id, ahead.c.id <= WaitlistEntry.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(WaitlistEntry.course_id, Course.title, position)
        .join(Course, Course.id == WaitlistEntry.course_id)
        .where(WaitlistEntry.user_id == user_id)
        .order_by(WaitlistEntry.id)
    )
    return [
        WaitlistPlaceOut(course_id=course_id, user_id=user_id, position=place, course_title=title)
        for course_id, title, place in rows
    ]
