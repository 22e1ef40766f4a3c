"""Figures for admins, counted from the rows themselves in one query each."""

from typing import Any

from sqlalchemy import Integer, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.schemas import (
    AnalyticsOut,
    CourseFiguresOut,
    StudentDetailOut,
    StudentSummaryOut,
)
from lectern.enrollments import queries
from lectern.models import AccessRequest, Course, Enrollment, User
from lectern.models.enums import EnrollmentStatus, RequestStatus, Role
from lectern.platform.actor import Actor
from lectern.platform.errors import NotFound


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def _enrollment_figures() -> list[Any]:
    enrolled = Enrollment.status.in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED])
    return [
        _count_where(Enrollment.status == EnrollmentStatus.ACTIVE).label("active_enrollments"),
        _count_where(Enrollment.status == EnrollmentStatus.COMPLETED).label(
            "completed_enrollments"
        ),
        _count_where(Enrollment.status == EnrollmentStatus.CANCELLED).label(
            "cancelled_enrollments"
        ),
        func.coalesce(func.avg(case((enrolled, Enrollment.progress))), 0.0).label(
            "average_progress"
        ),
    ]


def _pending_by(column: Any) -> Any:
    return (
        select(column.label("key"), func.count().label("pending"))
        .where(AccessRequest.status == RequestStatus.PENDING)
        .group_by(column)
        .subquery()
    )


def _students_query(actor: Actor) -> Select[Any]:
    pending = _pending_by(AccessRequest.user_id)
    return (
        select(
            User.id,
            User.email,
            User.full_name,
            User.created_at,
            *_enrollment_figures(),
            func.coalesce(func.max(pending.c.pending), 0).label("pending_requests"),
        )
        .outerjoin(Enrollment, Enrollment.user_id == User.id)
        .outerjoin(pending, pending.c.key == User.id)
        .where(User.institution_id == actor.institution_id, User.role == Role.STUDENT)
        .group_by(User.id, User.email, User.full_name, User.created_at)
        .order_by(User.full_name, User.id)
    )


async def list_students(
    session: AsyncSession, actor: Actor, *, limit: int = 100, offset: int = 0
) -> list[StudentSummaryOut]:
    rows = await session.execute(_students_query(actor).limit(limit).offset(offset))
    return [StudentSummaryOut.model_validate(row._mapping) for row in rows]


async def student_detail(session: AsyncSession, actor: Actor, user_id: int) -> StudentDetailOut:
    row = (await session.execute(_students_query(actor).where(User.id == user_id))).first()
    if row is None:
        raise NotFound("No such student.")
    return StudentDetailOut.model_validate(
        {
            **row._mapping,
            "enrollments": await queries.my_enrollments(session, user_id),
            "access_requests": await queries.my_requests(session, user_id),
        }
    )


async def institution_analytics(session: AsyncSession, actor: Actor) -> AnalyticsOut:
    pending = _pending_by(AccessRequest.course_id)
    rows = (
        await session.execute(
            select(
                Course.id.label("course_id"),
                Course.title,
                Course.status,
                Course.access,
                *_enrollment_figures(),
                func.coalesce(func.max(pending.c.pending), 0).label("pending_requests"),
            )
            .outerjoin(Enrollment, Enrollment.course_id == Course.id)
            .outerjoin(pending, pending.c.key == Course.id)
            .where(Course.institution_id == actor.institution_id)
            .group_by(Course.id, Course.title, Course.status, Course.access)
            .order_by(Course.title, Course.id)
        )
    ).all()
    courses = [CourseFiguresOut.model_validate(row._mapping) for row in rows]
    in_institution = and_(
        Enrollment.course_id == Course.id, Course.institution_id == actor.institution_id
    )
    totals = (
        await session.execute(
            select(
                *_enrollment_figures(),
                func.count(
                    func.distinct(
                        case((Enrollment.status == EnrollmentStatus.ACTIVE, Enrollment.user_id))
                    )
                ).label("active_learners"),
            ).join(Course, in_institution)
        )
    ).one()
    students = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.institution_id == actor.institution_id, User.role == Role.STUDENT)
    )
    return AnalyticsOut(
        students=students or 0,
        active_enrollments=totals.active_enrollments,
        completed_enrollments=totals.completed_enrollments,
        active_learners=totals.active_learners,
        pending_requests=sum(c.pending_requests for c in courses),
        average_progress=float(totals.average_progress),
        completions=totals.completed_enrollments,
        courses=courses,
    )
