"""GET /api/v1/admin/courses/{id}/analytics: the figures behind the per-course charts, read
from the course's tallies (its histogram and completions per day are kept beside its
enrollments), so as many rows whatever the course's size."""

import functools
from datetime import date

from fastapi import Depends
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Date,
    Float,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.rules import BUCKET_LABELS, share_correct
from lectern.models import CompletionDay, Course, CourseTally, ProgressBucket, QbankQuestion
from lectern.platform.actor import Actor
from lectern.platform.auth import staff_actor
from lectern.platform.db import read_session
from lectern.platform.errors import NotFound
from lectern.platform.routes import api_router
from lectern.platform.schemas import Output, PathId
from lectern.staff.rules import CourseAction
from lectern.staff.service import allowing_values, course_for, courses_allowing, role_stand_in

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


# The kinds of the figures statement's rows, in the order they come.
COURSE, BUCKET, DAY, QUESTION = range(4)
ZERO = literal_column("0", Integer)
ZERO_FLOAT = literal_column("0.0", Float)


def _kind(kind: int) -> ColumnElement[int]:
    return literal_column(str(kind), Integer)


@functools.cache
def _figures(role: str) -> CompoundSelect:
    """One statement for every figure of a course an actor of `role` may see the learners of:
    a row of the course with its tally (none if they may not), then its histogram's buckets,
    its completions per day and its Q-bank questions, for the values of allowing_values(actor)
    and `course_id`. Built once per role."""
    course_id = bindparam("course_id", type_=Integer)
    allowed = courses_allowing(role_stand_in(role), CourseAction.SEE_LEARNERS)
    no_day = cast(null(), Date)
    no_text = cast(null(), String)
    return union_all(
        select(
            _kind(COURSE).label("kind"),
            Course.id.label("key"),
            no_day.label("day"),
            func.coalesce(CourseTally.active, 0).label("a"),
            func.coalesce(CourseTally.completed, 0).label("b"),
            func.coalesce(CourseTally.progress_sum, 0.0).label("total"),
            Course.title.label("text"),
            no_text.label("topic"),
        )
        .outerjoin(CourseTally, CourseTally.course_id == Course.id)
        .where(Course.id == course_id, allowed),
        select(
            _kind(BUCKET),
            ProgressBucket.bucket,
            no_day,
            ProgressBucket.enrollments,
            ZERO,
            ZERO_FLOAT,
            no_text,
            no_text,
        ).where(ProgressBucket.course_id == course_id),
        select(
            _kind(DAY),
            ZERO,
            CompletionDay.day,
            CompletionDay.completions,
            ZERO,
            ZERO_FLOAT,
            no_text,
            no_text,
        ).where(CompletionDay.course_id == course_id, CompletionDay.completions > 0),
        select(
            _kind(QUESTION),
            QbankQuestion.id,
            no_day,
            QbankQuestion.attempts,
            QbankQuestion.correct,
            ZERO_FLOAT,
            QbankQuestion.prompt,
            QbankQuestion.topic,
        ).where(QbankQuestion.course_id == course_id),
    ).order_by("kind", "key", "day")


@router.get("/courses/{course_id}/analytics", response_model=CourseAnalyticsOut)
async def course_analytics(
    course_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> CourseAnalyticsOut:
    values = {**allowing_values(actor), "course_id": course_id}
    rows = (await session.execute(_figures(actor.role), values)).all()
    if not rows or rows[0].kind != COURSE:
        # Not theirs to see: course_for says whether it is not found or forbidden.
        await course_for(session, actor, course_id, CourseAction.SEE_LEARNERS)
        raise NotFound("No such course.")
    course, *figures = rows
    buckets = {row.key: row.a for row in figures if row.kind == BUCKET}
    enrolled = course.a + course.b
    return CourseAnalyticsOut(
        course_id=course.key,
        title=course.text,
        active_enrollments=course.a,
        completed_enrollments=course.b,
        average_progress=course.total / enrolled if enrolled else 0.0,
        progress_distribution=[
            ProgressBucketOut(label=label, count=buckets.get(bucket, 0))
            for bucket, label in enumerate(BUCKET_LABELS)
        ],
        completions_over_time=[
            DayCountOut(day=row.day, completions=row.a) for row in figures if row.kind == DAY
        ],
        qbank_questions=[
            QuestionStatsOut(
                id=row.key,
                prompt=row.text,
                topic=row.topic,
                attempts=row.a,
                correct=row.b,
                share_correct=share_correct(row.a, row.b),
            )
            for row in figures
            if row.kind == QUESTION
        ],
    )
