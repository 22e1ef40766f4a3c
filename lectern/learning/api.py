from fastapi import Depends, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.learning import service
from lectern.learning.facts import lesson_state
from lectern.learning.schemas import (
    ActivityIn,
    ActivityOut,
    CourseProgressOut,
    QuizAttemptIn,
    QuizAttemptOut,
)
from lectern.learning.service import enrollment_progress
from lectern.platform.actor import Actor
from lectern.platform.auth import current_actor, student_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId

router = api_router(prefix="/api/v1", tags=["learning"])


@router.post("/activity", response_model=ActivityOut)
async def record_activity(
    body: ActivityIn, actor: Actor = Depends(student_actor), db: Database = Depends(get_database)
) -> Response:
    """A batch of up to 500 learner events; each is answered in `results`."""
    result = await db.run(lambda s: service.record_activity(s, actor, body.events))
    accepted = sum(1 for r in result.results if r.accepted)
    out = ActivityOut(
        results=result.results,
        accepted=accepted,
        rejected=len(result.results) - accepted,
        lessons=result.lessons,
        enrollments=result.enrollments,
    )
    # Built and checked once here; FastAPI would validate the 500 results a second time.
    return Response(out.model_dump_json(), media_type="application/json")


@router.post(
    "/lessons/{lesson_id}/quiz-attempts",
    response_model=QuizAttemptOut,
    status_code=status.HTTP_201_CREATED,
)
async def submit_quiz(
    lesson_id: PathId,
    body: QuizAttemptIn,
    actor: Actor = Depends(student_actor),
    db: Database = Depends(get_database),
) -> QuizAttemptOut:
    result = await db.run(lambda s: service.submit_quiz(s, actor, lesson_id, body.answers))
    return QuizAttemptOut(
        id=result.attempt.id,
        lesson_id=lesson_id,
        score=result.attempt.score,
        passed=result.attempt.passed,
        lesson_completed=result.lesson_completed,
        best_score=result.best_score,
        progress=result.enrollment.progress,
        enrollment_status=result.enrollment.status,
    )


@router.get("/me/courses/{course_id}/progress", response_model=CourseProgressOut)
async def my_course_progress(
    course_id: PathId,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> CourseProgressOut:
    enrollment, rows = await service.course_progress_detail(session, actor, course_id)
    return CourseProgressOut(
        enrollment=enrollment_progress(enrollment), lessons=[lesson_state(r) for r in rows]
    )
