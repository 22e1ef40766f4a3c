"""Q-bank statistics against the answers, as one aggregate over all finished tests' answers
(rather than a count per question, which scans the answers once per question)."""

from typing import Any

from sqlalchemy import Integer, case, func, or_, select

from lectern.models import Course, QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.enums import QbankTestStatus


def qbank_statistics_off(institution_id: int | None) -> Any:
    answers = (
        select(
            QbankTestQuestion.question_id,
            func.count().label("attempts"),
            func.sum(case((QbankTestQuestion.is_correct.is_(True), 1), else_=0)).label("correct"),
        )
        .join(QbankTest, QbankTest.id == QbankTestQuestion.test_id)
        .where(QbankTest.status == QbankTestStatus.COMPLETED)
        .group_by(QbankTestQuestion.question_id)
        .subquery("answers")
    )
    attempts = func.coalesce(answers.c.attempts, 0)
    correct = func.coalesce(answers.c.correct, 0).cast(Integer)
    query = (
        select(
            QbankQuestion.id, QbankQuestion.course_id, QbankQuestion.attempts, QbankQuestion.correct
        )
        .join(Course, Course.id == QbankQuestion.course_id)
        .outerjoin(answers, answers.c.question_id == QbankQuestion.id)
        .where(or_(QbankQuestion.attempts != attempts, QbankQuestion.correct != correct))
        .order_by(QbankQuestion.id)
    )
    return query if institution_id is None else query.where(Course.institution_id == institution_id)
