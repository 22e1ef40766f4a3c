"""Figures for admins, read from the tallies kept beside the rows: each read costs the same
however many enrollments an institution has."""

from typing import Any

from sqlalchemy import Float, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.schemas import (
    AnalyticsOut,
    CourseFiguresOut,
)
from lectern.models import (
    Course,
    CourseTally,
    Enrollment,
    InstitutionTally,
    LearnerTally,
)
from lectern.models.enums import EnrollmentStatus
from lectern.platform.actor import Actor
from lectern.platform.schemas import outputs
from lectern.staff.rules import CourseAction
from lectern.staff.service import courses_allowing


def average(progress_sum: Any, enrolled: Any) -> Any:
    """The average progress of the enrolled, 0 with none, in SQL."""
    return case((enrolled > 0, progress_sum.cast(Float) / enrolled), else_=0.0)


def figures(tally: type[CourseTally] | type[LearnerTally]) -> list[Any]:
    """A tally's figures as the lists show them, zeros where it has no row yet."""
    enrolled = func.coalesce(tally.active + tally.completed, 0)
    return [
        func.coalesce(tally.active, 0).label("active_enrollments"),
        func.coalesce(tally.completed, 0).label("completed_enrollments"),
        func.coalesce(tally.cancelled, 0).label("cancelled_enrollments"),
        func.coalesce(tally.pending_requests, 0).label("pending_requests"),
        average(func.coalesce(tally.progress_sum, 0.0), enrolled).label("average_progress"),
    ]


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
                *figures(CourseTally),
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
