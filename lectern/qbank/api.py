from fastapi import Depends, status
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models.enums import QbankTestStatus
from lectern.platform.actor import Actor
from lectern.platform.auth import current_actor, staff_actor, student_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.qbank import service
from lectern.qbank.schemas import (
    AnswerIn,
    CourseStatisticsOut,
    QuestionStatisticsOut,
    TestOut,
    TestQuestionOut,
    TestStartIn,
)
from lectern.qbank.service import TestView

router = api_router(prefix="/api/v1", tags=["qbank"])


def _share(correct: int, attempts: int) -> float | None:
    return correct / attempts if attempts else None


def test_out(view: TestView) -> TestOut:
    finished = view.test.status == QbankTestStatus.COMPLETED
    return TestOut(
        id=view.test.id,
        course_id=view.course_id,
        status=view.test.status,
        topic=view.test.topic,
        score=view.test.score,
        created_at=view.test.created_at,
        finished_at=view.test.finished_at,
        questions=[
            TestQuestionOut(
                id=drawn.question.id,
                prompt=drawn.question.prompt,
                choices=drawn.question.choices,
                topic=drawn.question.topic,
                choice=drawn.choice,
                correct=bool(drawn.is_correct) if finished else None,
                answer=drawn.question.answer if finished else None,
            )
            for drawn in view.questions
        ],
    )


@router.post(
    "/courses/{course_id}/qbank-tests", response_model=TestOut, status_code=status.HTTP_201_CREATED
)
async def start_test(
    course_id: PathId,
    body: TestStartIn,
    actor: Actor = Depends(student_actor),
    db: Database = Depends(get_database),
) -> TestOut:
    view = await db.run(lambda s: service.start_test(s, actor, course_id, body.count, body.topic))
    return test_out(view)


@router.get("/qbank-tests/{test_id}", response_model=TestOut)
async def read_test(
    test_id: PathId,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> TestOut:
    return test_out(await service.read_test(session, actor, test_id))


@router.post("/qbank-tests/{test_id}/answers", response_model=TestOut)
async def answer(
    test_id: PathId,
    body: AnswerIn,
    actor: Actor = Depends(student_actor),
    db: Database = Depends(get_database),
) -> TestOut:
    view = await db.run(
        lambda s: service.answer_question(s, actor, test_id, body.question_id, body.choice)
    )
    return test_out(view)


@router.post("/qbank-tests/{test_id}/finish", response_model=TestOut)
async def finish(
    test_id: PathId, actor: Actor = Depends(student_actor), db: Database = Depends(get_database)
) -> TestOut:
    return test_out(await db.run(lambda s: service.finish_test(s, actor, test_id)))


@router.post("/qbank-tests/{test_id}/abandon", response_model=TestOut)
async def abandon(
    test_id: PathId, actor: Actor = Depends(student_actor), db: Database = Depends(get_database)
) -> TestOut:
    return test_out(await db.run(lambda s: service.abandon_test(s, actor, test_id)))


@router.get("/admin/courses/{course_id}/qbank-statistics", response_model=CourseStatisticsOut)
async def statistics(
    course_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> CourseStatisticsOut:
    """Per question and for the course: attempts, correct answers, and the share correct."""
    questions = await service.question_statistics(session, actor, course_id)
    attempts = sum(q.attempts for q in questions)
    correct = sum(q.correct for q in questions)
    return CourseStatisticsOut(
        course_id=course_id,
        questions=len(questions),
        attempts=attempts,
        correct=correct,
        share_correct=_share(correct, attempts),
        by_question=[
            QuestionStatisticsOut(
                id=q.id,
                prompt=q.prompt,
                topic=q.topic,
                attempts=q.attempts,
                correct=q.correct,
                share_correct=_share(q.correct, q.attempts),
            )
            for q in questions
        ],
    )
