"""GET /api/v1/admin/courses/{id}/analytics: the figures behind the per-course charts, read
from the course's tallies (its histogram and completions per day are kept beside its
enrollments), so as many rows whatever the course's size."""

from datetime import date

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.rules import BUCKET_LABELS, share_correct
from lectern.models import CompletionDay, CourseTally, ProgressBucket, QbankQuestion
from lectern.platform.actor import Actor
from lectern.platform.auth import staff_actor
from lectern.platform.db import read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import Output, PathId
from lectern.staff.rules import CourseAction
from lectern.staff.service import course_for

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
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> CourseAnalyticsOut:
    course = await course_for(session, actor, course_id, CourseAction.SEE_LEARNERS)
    tally = await session.get(CourseTally, course.id)
    buckets = {
        bucket: count
        for bucket, count in await session.execute(
            select(ProgressBucket.bucket, ProgressBucket.enrollments).where(
                ProgressBucket.course_id == course.id
            )
        )
    }
    days = (
        await session.execute(
            select(CompletionDay.day, CompletionDay.completions)
            .where(CompletionDay.course_id == course.id, CompletionDay.completions > 0)
            .order_by(CompletionDay.day)
        )
    ).all()
    questions = (
        await session.execute(
            select(
                QbankQuestion.id,
                QbankQuestion.prompt,
                QbankQuestion.topic,
                QbankQuestion.attempts,
                QbankQuestion.correct,
            )
            .where(QbankQuestion.course_id == course.id)
            .order_by(QbankQuestion.id)
        )
    ).all()
    active = tally.active if tally else 0
    completed = tally.completed if tally else 0
    return CourseAnalyticsOut(
        course_id=course.id,
        title=course.title,
        active_enrollments=active,
        completed_enrollments=completed,
        average_progress=tally.progress_sum / (active + completed)
        if tally and active + completed
        else 0.0,
        progress_distribution=[
            ProgressBucketOut(label=label, count=buckets.get(bucket, 0))
            for bucket, label in enumerate(BUCKET_LABELS)
        ],
        completions_over_time=[DayCountOut(day=day, completions=count) for day, count in days],
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
