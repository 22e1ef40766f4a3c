"""GET /api/v1/me/courses/{id}/lessons: the caller's facts per lesson, for the outline's marks."""

from datetime import datetime

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.actor import Actor
from lectern.accounts.deps import current_actor
from lectern.db import read_session
from lectern.errors import NotFound
from lectern.models import Enrollment, LessonProgress
from lectern.schemas import Output

router = APIRouter(prefix="/api/v1/me", tags=["learning"])


class LessonMarkOut(Output):
    lesson_id: int
    completed: bool
    completed_at: datetime | None
    watched_s: float
    best_score: float | None


@router.get("/courses/{course_id}/lessons", response_model=list[LessonMarkOut])
async def lesson_marks(
    course_id: int,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> list[LessonMarkOut]:
    enrollment_id = await session.scalar(
        select(Enrollment.id).where(Enrollment.user_id == actor.id, Enrollment.course_id == course_id)
    )
    if enrollment_id is None:
        raise NotFound("You are not enrolled in this course.")
    rows = await session.scalars(
        select(LessonProgress)
        .where(LessonProgress.enrollment_id == enrollment_id)
        .order_by(LessonProgress.lesson_id)
    )
    return [
        LessonMarkOut(
            lesson_id=row.lesson_id,
            completed=row.completed_at is not None,
            completed_at=row.completed_at,
            watched_s=row.watched_s,
            best_score=row.best_score,
        )
        for row in rows
    ]
