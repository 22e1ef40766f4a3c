"""GET /api/v1/admin/courses/{id}/analytics: the figures behind the per-course charts."""

from datetime import date

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.rules import (
    BUCKET_LABELS,
    completions_by_day,
    progress_histogram,
    share_correct,
)
from lectern.courses.service import course_in_institution
from lectern.models import Enrollment, QbankQuestion
from lectern.models.enums import EnrollmentStatus
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import Output, PathId

router = api_router(prefix="/api/v1/admin", tags=["admin"])


class ProgressBucketOut(Output):
    label: str
    count: int


class DayCountOut(Output):
    day: date
    completions: int


class QuestionStatsOut(Output):
    id: int
    prompt: str
    topic: str
    attempts: int
    correct: int
    share_correct: float | None


class CourseAnalyticsOut(Output):
    course_id: int
    title: str
    active_enrollments: int
    completed_enrollments: int
    average_progress: float
    progress_distribution: list[ProgressBucketOut]
    completions_over_time: list[DayCountOut]
    qbank_questions: list[QuestionStatsOut]


@router.get("/courses/{course_id}/analytics", response_model=CourseAnalyticsOut)
async def course_analytics(
    course_id: PathId,
    actor: Actor = Depends(admin_actor),
    session: AsyncSession = Depends(read_session),
) -> CourseAnalyticsOut:
    course = await course_in_institution(session, actor, course_id)
    enrollments = (
        await session.execute(
            select(Enrollment.status, Enrollment.progress, Enrollment.completed_at).where(
                Enrollment.course_id == course.id,
                Enrollment.status != EnrollmentStatus.CANCELLED,
            )
        )
    ).all()
    questions = (
        await session.scalars(
            select(QbankQuestion)
            .where(QbankQuestion.course_id == course.id)
            .order_by(QbankQuestion.id)
        )
    ).all()
    progresses = [row.progress for row in enrollments]
    return CourseAnalyticsOut(
        course_id=course.id,
        title=course.title,
        active_enrollments=sum(row.status == EnrollmentStatus.ACTIVE for row in enrollments),
        completed_enrollments=sum(row.status == EnrollmentStatus.COMPLETED for row in enrollments),
        average_progress=sum(progresses) / len(progresses) if progresses else 0.0,
        progress_distribution=[
            ProgressBucketOut(label=label, count=count)
            for label, count in zip(BUCKET_LABELS, progress_histogram(progresses), strict=True)
        ],
        completions_over_time=[
            DayCountOut(day=day, completions=count)
            for day, count in completions_by_day(row.completed_at for row in enrollments)
        ],
        qbank_questions=[
            QuestionStatsOut(
                id=q.id,
                prompt=q.prompt,
                topic=q.topic,
                attempts=q.attempts,
                correct=q.correct,
                share_correct=share_correct(q.attempts, q.correct),
            )
            for q in questions
        ],
    )
