"""Read models of enrollments and requests, for learners and for the admin queue."""

import functools
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, String, bindparam, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.schemas import (
    EnrollmentOut,
    MyEnrollmentOut,
    QueuedRequestOut,
    WaitlistPlaceOut,
)
from lectern.models import AccessRequest, Course, Enrollment, User, WaitlistEntry
from lectern.models.enums import RequestStatus
from lectern.platform.actor import Actor
from lectern.platform.keyset import NEWEST_FIRST, decode_cursor, encode_cursor, rows_of_page
from lectern.platform.schemas import outputs
from lectern.staff.rules import CourseAction
from lectern.staff.service import (
    allowing_values,
    course_for,
    courses_allowing,
    role_stand_in,
)

# A request's columns with its course title and its learner's name and e-mail.
QueuedSelect = Select[Any]
REQUEST_COLUMNS = list(AccessRequest.__table__.c)
# An enrollment's columns that its outputs show.
ENROLLMENT_COLUMNS = [Enrollment.__table__.c[name] for name in EnrollmentOut.model_fields]


async def my_enrollments(session: AsyncSession, user_id: int) -> list[MyEnrollmentOut]:
    query: Select[Any] = (
        select(
            *ENROLLMENT_COLUMNS,
            Course.title.label("course_title"),
            Course.slug.label("course_slug"),
            Course.status.label("course_status"),
        )
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.user_id == user_id)
        .order_by(Enrollment.id)
    )
    return outputs(MyEnrollmentOut, (await session.execute(query)).all())


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
    if course_id is not None:
        await course_for(session, actor, course_id, CourseAction.SEE_LEARNERS)
    before = None if cursor is None else decode_cursor(cursor, NEWEST_FIRST, (int,))[0]
    if session.get_bind().dialect.name == "postgresql" and not offset:
        chosen = [status] if status is not None else list(RequestStatus)
        query = _newest_per_course(actor.role, course_id is not None, before is not None)
        values = {
            **allowing_values(actor),
            "statuses": [str(s) for s in chosen],
            "course_id": course_id,
            "before": before,
            "size": limit + 1,
        }
        found = await _requests(session, query, values)
    else:
        query = select_requests().where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
        if status is not None:
            query = query.where(AccessRequest.status == status)
        if course_id is not None:
            query = query.where(AccessRequest.course_id == course_id)
        if before is not None:
            query = query.where(AccessRequest.id < before)
        found = await _requests(session, query.offset(offset).limit(limit + 1))
    if len(found) <= limit:
        return found, None
    return found[:limit], encode_cursor(NEWEST_FIRST, (found[limit - 1].id,))


@functools.cache
def _newest_per_course(role: str, one_course: bool, before: bool) -> QueuedSelect:
    """The queue's page of the newest `size` requests (before `before`) of the courses whose
    learners an actor of `role` sees: the newest of each course and status, read backwards along
    the index on (course_id, status, id), then the newest of those; as many short index reads
    as courses and statuses, whatever the other courses' and institutions' requests. Built once
    for each shape (building it took longer than running it), for the values of
    allowing_values(actor), `statuses`, `course_id`, `before` and `size`."""
    courses = select(Course.id.label("course_id")).where(
        courses_allowing(role_stand_in(role), CourseAction.SEE_LEARNERS)
    )
    if one_course:
        courses = courses.where(Course.id == bindparam("course_id"))
    wanted = courses.subquery("wanted")
    # A bound array, not values(): SQLAlchemy caches no statement that holds a VALUES list.
    statuses = (
        func.unnest(bindparam("statuses", type_=ARRAY(String)))
        .table_valued("status")
        .render_derived(name="statuses")
    )
    size = bindparam("size", type_=Integer)
    newest = (
        select(AccessRequest.id)
        .where(
            AccessRequest.course_id == wanted.c.course_id,
            AccessRequest.status == statuses.c.status,
            AccessRequest.id < bindparam("before") if before else true(),
        )
        .order_by(AccessRequest.id.desc())
        .limit(size)
        .lateral("newest")
    )
    page = (
        select(newest.c.id)
        .select_from(wanted.join(statuses, true()).join(newest, true()))
        .order_by(newest.c.id.desc())
        .limit(size)
        .subquery("page")
    )
    return rows_of_page(select_requests(), AccessRequest.id, page, lateral=True)


def select_requests() -> QueuedSelect:
    """Requests as the queue shows them, newest first: plain rows, no ORM objects to build."""
    return (
        select(
            *REQUEST_COLUMNS,
            Course.title.label("course_title"),
            User.full_name.label("learner_name"),
            User.email.label("learner_email"),
        )
        .join(Course, Course.id == AccessRequest.course_id)
        .join(User, User.id == AccessRequest.user_id)
        .order_by(AccessRequest.id.desc())
    )


async def _requests(
    session: AsyncSession, query: QueuedSelect, values: dict[str, Any] | None = None
) -> list[QueuedRequestOut]:
    return outputs(QueuedRequestOut, (await session.execute(query, values)).all())


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
