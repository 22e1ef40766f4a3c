"""Figures for admins, read from the tallies kept beside the rows: each read costs the same
however many enrollments an institution has."""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, Integer, Select, case, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.schemas import (
    AnalyticsOut,
    CourseFiguresOut,
    StudentDetailOut,
    StudentSummaryOut,
)
from lectern.enrollments import queries
from lectern.models import (
    AccessRequest,
    Course,
    CourseTally,
    Enrollment,
    InstitutionTally,
    LearnerTally,
    User,
)
from lectern.models.enums import EnrollmentStatus, RequestStatus, Role
from lectern.platform.actor import Actor
from lectern.platform.errors import Invalid, NotFound
from lectern.platform.keyset import decode_cursor, encode_cursor
from lectern.platform.schemas import outputs
from lectern.platform.storable import UNSTORABLE_MESSAGE, all_storable
from lectern.staff.rules import CourseAction
from lectern.staff.service import courses_allowing

MAX_PAGE = 100


class StudentOrder(StrEnum):
    """The orders the students list offers: each one an index's."""

    NAME = "name"
    EMAIL = "email"
    CREATED_AT = "created_at"


SORT_COLUMNS: dict[StudentOrder, tuple[Any, type]] = {
    StudentOrder.NAME: (User.full_name, str),
    StudentOrder.EMAIL: (User.email_key, str),
    StudentOrder.CREATED_AT: (User.created_at, datetime),
}


def average(progress_sum: Any, enrolled: Any) -> Any:
    """The average progress of the enrolled, 0 with none, in SQL."""
    return case((enrolled > 0, progress_sum.cast(Float) / enrolled), else_=0.0)


def _figures(tally: type[CourseTally] | type[LearnerTally]) -> list[Any]:
    """A tally's figures as the lists show them, zeros where it has no row yet."""
    enrolled = func.coalesce(tally.active + tally.completed, 0)
    return [
        func.coalesce(tally.active, 0).label("active_enrollments"),
        func.coalesce(tally.completed, 0).label("completed_enrollments"),
        func.coalesce(tally.cancelled, 0).label("cancelled_enrollments"),
        func.coalesce(tally.pending_requests, 0).label("pending_requests"),
        average(func.coalesce(tally.progress_sum, 0.0), enrolled).label("average_progress"),
    ]


def _students_query(actor: Actor) -> Select[Any]:
    """The institution's students with their figures: from their tallies for an admin; for
    course staff, only the learners of the courses whose learners they see, with the figures
    of those courses."""
    if not actor.is_admin:
        return _staffed_students_query(actor)
    return (
        select(
            User.id,
            User.email,
            User.email_key,
            User.full_name,
            User.created_at,
            *_figures(LearnerTally),
        )
        .outerjoin(LearnerTally, LearnerTally.user_id == User.id)
        .where(User.institution_id == actor.institution_id, User.role == Role.STUDENT)
    )


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def _staffed_students_query(actor: Actor) -> Select[Any]:
    seen = select(Course.id).where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
    enrollments = (
        select(Enrollment.user_id, Enrollment.status, Enrollment.progress)
        .where(Enrollment.course_id.in_(seen))
        .subquery()
    )
    pending = (
        select(AccessRequest.user_id, func.count().label("n"))
        .where(AccessRequest.status == RequestStatus.PENDING, AccessRequest.course_id.in_(seen))
        .group_by(AccessRequest.user_id)
        .subquery()
    )
    enrolled = enrollments.c.status.in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED])
    return (
        select(
            User.id,
            User.email,
            User.email_key,
            User.full_name,
            User.created_at,
            _count_where(enrollments.c.status == EnrollmentStatus.ACTIVE).label(
                "active_enrollments"
            ),
            _count_where(enrollments.c.status == EnrollmentStatus.COMPLETED).label(
                "completed_enrollments"
            ),
            _count_where(enrollments.c.status == EnrollmentStatus.CANCELLED).label(
                "cancelled_enrollments"
            ),
            func.coalesce(func.max(pending.c.n), 0).label("pending_requests"),
            func.coalesce(func.avg(case((enrolled, enrollments.c.progress))), 0.0).label(
                "average_progress"
            ),
        )
        .outerjoin(enrollments, enrollments.c.user_id == User.id)
        .outerjoin(pending, pending.c.user_id == User.id)
        .where(
            User.institution_id == actor.institution_id,
            User.role == Role.STUDENT,
            (enrollments.c.user_id.is_not(None)) | (pending.c.user_id.is_not(None)),
        )
        .group_by(User.id, User.email, User.email_key, User.full_name, User.created_at)
    )


def _matching(q: str) -> Any:
    """Students whose name or e-mail holds `q`, whatever its case (on PostgreSQL, a search of
    the trigram indexes on full_name and email_key, the lower-cased e-mail)."""
    if not all_storable(q):
        raise Invalid(f"q {UNSTORABLE_MESSAGE}")
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(
        User.full_name.ilike(pattern, escape="\\"),
        User.email_key.like(pattern.lower(), escape="\\"),
    )


async def list_students(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int = MAX_PAGE,
    offset: int = 0,
    cursor: str | None = None,
    q: str | None = None,
    order: StudentOrder = StudentOrder.NAME,
) -> tuple[list[StudentSummaryOut], str | None]:
    """A page of the institution's students in `order`, from `cursor` (or `offset`), with the
    cursor of the next page if there may be one."""
    column, kind = SORT_COLUMNS[order]
    query = _students_query(actor).order_by(column, User.id).limit(limit + 1)
    if q:
        query = query.where(_matching(q))
    if cursor is not None:
        after = decode_cursor(cursor, order, (kind, int))
        query = query.where(tuple_(column, User.id) > tuple_(*after))
    elif offset:
        query = query.offset(offset)
    rows: Sequence[Any] = (await session.execute(query)).all()
    page = outputs(StudentSummaryOut, rows[:limit])
    if len(rows) <= limit:
        return page, None
    last = rows[limit - 1]
    return page, encode_cursor(order, (getattr(last, column.key), last.id))


async def student_detail(session: AsyncSession, actor: Actor, user_id: int) -> StudentDetailOut:
    row = (await session.execute(_students_query(actor).where(User.id == user_id))).first()
    if row is None:
        raise NotFound("No such student.")
    enrollments = await queries.my_enrollments(session, user_id)
    requests = await queries.my_requests(session, user_id)
    if not actor.is_admin:
        seen = set(
            await session.scalars(
                select(Course.id).where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
            )
        )
        enrollments = [e for e in enrollments if e.course_id in seen]
        requests = [r for r in requests if r.course_id in seen]
    return StudentDetailOut.model_validate(
        {**row._mapping, "enrollments": enrollments, "access_requests": requests}
    )


async def institution_analytics(session: AsyncSession, actor: Actor) -> AnalyticsOut:
    """The institution's figures and each course's, from the courses' tallies and the
    institution's shards: as many rows as courses, whatever the enrollments."""
    rows = (
        await session.execute(
            select(
                Course.id.label("course_id"),
                Course.title,
                Course.status,
                Course.access,
                *_figures(CourseTally),
                func.coalesce(CourseTally.progress_sum, 0.0).label("progress_sum"),
            )
            .outerjoin(CourseTally, CourseTally.course_id == Course.id)
            .where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
            .order_by(Course.title, Course.id)
        )
    ).all()
    courses = outputs(CourseFiguresOut, rows)
    people = await _people(session, actor)
    active = sum(c.active_enrollments for c in courses)
    completed = sum(c.completed_enrollments for c in courses)
    progress = sum(float(row.progress_sum) for row in rows)
    return AnalyticsOut(
        students=people[0],
        active_enrollments=active,
        completed_enrollments=completed,
        active_learners=people[1],
        pending_requests=sum(c.pending_requests for c in courses),
        average_progress=progress / (active + completed) if active + completed else 0.0,
        completions=completed,
        courses=courses,
    )


async def _people(session: AsyncSession, actor: Actor) -> Any:
    """Students and active learners: the institution's, from its shards, for an admin; the
    learners of their courses for course staff."""
    if actor.is_admin:
        query = select(
            func.coalesce(func.sum(InstitutionTally.students), 0),
            func.coalesce(func.sum(InstitutionTally.active_learners), 0),
        ).where(InstitutionTally.institution_id == actor.institution_id)
    else:
        active = case((Enrollment.status == EnrollmentStatus.ACTIVE, Enrollment.user_id))
        query = select(
            func.count(func.distinct(Enrollment.user_id)), func.count(func.distinct(active))
        ).where(
            Enrollment.course_id.in_(
                select(Course.id).where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
            )
        )
    return (await session.execute(query)).one()
