"""Q-bank tests: drawn at random from a course's bank, answered, then finished or abandoned.

Finishing updates every drawn question's statistics with one set-based UPDATE and, where the
course counts Q-bank (a required Q-bank pass, or Q-bank lessons), the learner's progress.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.rules import is_enrolled
from lectern.events.service import record_event
from lectern.events.types import QbankTestFinished
from lectern.learning.facts import lesson_state, load_lesson_facts, write_lesson_facts
from lectern.models import Course, Enrollment, Lesson, QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.base import utcnow
from lectern.models.enums import LessonKind, QbankTestStatus
from lectern.platform.actor import Actor
from lectern.platform.errors import Conflict, Forbidden, Invalid, NotFound
from lectern.progress.rules import passes, qbank_score
from lectern.progress.service import lock_enrollments, recompute_progress
from lectern.staff.rules import CourseAction
from lectern.staff.service import course_for

OPEN_STATUSES = (QbankTestStatus.PENDING, QbankTestStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class DrawnQuestion:
    question: QbankQuestion
    choice: int | None
    is_correct: bool | None


@dataclass(frozen=True, slots=True)
class TestView:
    test: QbankTest
    course_id: int
    questions: list[DrawnQuestion]


def _require_student(actor: Actor) -> None:
    if not actor.is_student:
        raise Forbidden("Only students take Q-bank tests.")


async def _enrollment(session: AsyncSession, actor: Actor, course_id: int) -> Enrollment:
    enrollment = await session.scalar(
        select(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Enrollment.user_id == actor.id,
            Enrollment.course_id == course_id,
            Course.institution_id == actor.institution_id,
        )
    )
    if enrollment is None or not is_enrolled(enrollment.status):
        raise NotFound("You are not enrolled in this course.", slug="not-enrolled")
    return enrollment


async def _own_test(
    session: AsyncSession, actor: Actor, test_id: int, *, lock: bool = False
) -> tuple[QbankTest, Enrollment]:
    """The caller's test (another learner's answers 404), optionally locked with its
    enrollment, enrollment first as every progress command locks it. A test of a course the
    learner is no longer enrolled in (unenrolled, refunded) is gone with the course's content."""
    row = (
        await session.execute(
            select(QbankTest.id, Enrollment.id, Enrollment.status)
            .join(Enrollment, Enrollment.id == QbankTest.enrollment_id)
            .where(QbankTest.id == test_id, Enrollment.user_id == actor.id)
        )
    ).first()
    if row is None:
        raise NotFound("No such Q-bank test.")
    if not is_enrolled(row[2]):
        raise NotFound("You are not enrolled in this course.", slug="not-enrolled")
    if lock:
        await lock_enrollments(session, [row[1]])
    query = select(QbankTest).where(QbankTest.id == test_id)
    if lock:
        query = query.with_for_update()
    test = (await session.scalars(query.execution_options(populate_existing=True))).one()
    enrollment = await session.get_one(Enrollment, row[1])
    return test, enrollment


async def test_view(session: AsyncSession, test: QbankTest, course_id: int) -> TestView:
    rows = await session.execute(
        select(QbankQuestion, QbankTestQuestion.choice, QbankTestQuestion.is_correct)
        .join(QbankTestQuestion, QbankTestQuestion.question_id == QbankQuestion.id)
        .where(QbankTestQuestion.test_id == test.id)
        .order_by(QbankTestQuestion.position)
    )
    return TestView(test, course_id, [DrawnQuestion(q, c, ok) for q, c, ok in rows])


async def start_test(
    session: AsyncSession, actor: Actor, course_id: int, count: int, topic: str | None = None
) -> TestView:
    """Draw up to `count` questions at random from the course's bank (or one topic of it)."""
    _require_student(actor)
    enrollment = await _enrollment(session, actor, course_id)
    query = select(QbankQuestion.id).where(QbankQuestion.course_id == course_id)
    if topic:
        query = query.where(QbankQuestion.topic == topic)
    drawn = (await session.scalars(query.order_by(func.random()).limit(count))).all()
    if not drawn:
        raise Conflict(
            "The question bank has no questions" + (f" on {topic!r}." if topic else "."),
            slug="qbank-empty",
        )
    test = QbankTest(
        enrollment_id=enrollment.id,
        status=QbankTestStatus.PENDING,
        topic=topic or None,
        created_at=utcnow(),
    )
    session.add(test)
    await session.flush()
    session.add_all(
        QbankTestQuestion(test_id=test.id, question_id=question_id, position=position)
        for position, question_id in enumerate(drawn)
    )
    await session.flush()
    return await test_view(session, test, course_id)


async def read_test(session: AsyncSession, actor: Actor, test_id: int) -> TestView:
    test, enrollment = await _own_test(session, actor, test_id)
    return await test_view(session, test, enrollment.course_id)


async def answer_question(
    session: AsyncSession, actor: Actor, test_id: int, question_id: int, choice: int
) -> TestView:
    """Record (or change) the answer to one drawn question while the test is open."""
    _require_student(actor)
    test, enrollment = await _own_test(session, actor, test_id, lock=True)
    if test.status not in OPEN_STATUSES:
        raise Conflict(f"This test is {test.status}.", slug="qbank-test-closed")
    question = await session.scalar(
        select(QbankQuestion)
        .join(QbankTestQuestion, QbankTestQuestion.question_id == QbankQuestion.id)
        .where(QbankTestQuestion.test_id == test.id, QbankQuestion.id == question_id)
    )
    if question is None:
        raise Invalid(f"Question {question_id} is not part of this test.")
    if not 0 <= choice < len(question.choices):
        raise Invalid(f"Choice {choice} is not one of the question's choices.")
    await session.execute(
        update(QbankTestQuestion)
        .where(QbankTestQuestion.test_id == test.id, QbankTestQuestion.question_id == question_id)
        .values(choice=choice, is_correct=choice == question.answer)
        .execution_options(synchronize_session=False)
    )
    test.status = QbankTestStatus.IN_PROGRESS
    await session.flush()
    return await test_view(session, test, enrollment.course_id)


async def finish_test(session: AsyncSession, actor: Actor, test_id: int) -> TestView:
    """Score the test, update its questions' statistics, and count it toward progress;
    finishing it again changes nothing."""
    _require_student(actor)
    test, enrollment = await _own_test(session, actor, test_id, lock=True)
    if test.status == QbankTestStatus.COMPLETED:
        return await test_view(session, test, enrollment.course_id)
    if test.status == QbankTestStatus.ABANDONED:
        raise Conflict("This test was abandoned.", slug="qbank-test-closed")
    total, correct = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(
                    func.sum(case((QbankTestQuestion.is_correct.is_(True), 1), else_=0)), 0
                ),
            ).where(QbankTestQuestion.test_id == test.id)
        )
    ).one()
    drawn = select(QbankTestQuestion.question_id).where(QbankTestQuestion.test_id == test.id)
    right = select(QbankTestQuestion.question_id).where(
        QbankTestQuestion.test_id == test.id, QbankTestQuestion.is_correct.is_(True)
    )
    # One statement for every question of the test: statistics stay set-based. A question left
    # unanswered is an attempt answered wrongly, as in the score.
    await session.execute(
        update(QbankQuestion)
        .where(QbankQuestion.id.in_(drawn))
        .values(
            attempts=QbankQuestion.attempts + 1,
            correct=QbankQuestion.correct + case((QbankQuestion.id.in_(right), 1), else_=0),
        )
        .execution_options(synchronize_session=False)
    )
    test.status = QbankTestStatus.COMPLETED
    test.score = qbank_score(int(correct), int(total))
    test.finished_at = utcnow()
    await session.flush()
    course = await session.get_one(Course, enrollment.course_id)
    await _count_toward_progress(session, test, enrollment, course)
    record_event(
        session,
        QbankTestFinished(
            test_id=test.id,
            course_id=course.id,
            score=test.score,
            questions=int(total),
            correct=int(correct),
            pass_mark=course.qbank_pass_mark,
            passed=passes(test.score, course.qbank_pass_mark),
        ),
        institution_id=course.institution_id,
        user_id=enrollment.user_id,
    )
    return await test_view(session, test, course.id)


async def _count_toward_progress(
    session: AsyncSession, test: QbankTest, enrollment: Enrollment, course: Course
) -> None:
    """Q-bank lessons at or below the score are completed; progress is recomputed when the
    course counts Q-bank at all."""
    score = test.score or 0.0
    qbank_lessons: Sequence[Lesson] = (
        await session.scalars(
            select(Lesson).where(Lesson.course_id == course.id, Lesson.kind == LessonKind.QBANK)
        )
    ).all()
    if not qbank_lessons and not course.qbank_required:
        return
    passed = [lesson for lesson in qbank_lessons if passes(score, lesson.pass_mark)]
    facts = await load_lesson_facts(session, {(enrollment.id, lesson.id) for lesson in passed})
    now = utcnow()
    newly_done = [row for row in facts.values() if row.completed_at is None]
    for row in newly_done:
        row.completed_at = now
    await write_lesson_facts(session, newly_done)
    await recompute_progress(
        session,
        [enrollment],
        announce={enrollment.id},
        details={
            enrollment.id: {
                "qbank_score": score,
                "lessons": [lesson_state(row).model_dump() for row in newly_done],
            }
        },
    )


async def abandon_test(session: AsyncSession, actor: Actor, test_id: int) -> TestView:
    """Give up an open test; its answers count nowhere. Abandoning it again changes nothing."""
    _require_student(actor)
    test, enrollment = await _own_test(session, actor, test_id, lock=True)
    if test.status == QbankTestStatus.COMPLETED:
        raise Conflict("This test is already finished.", slug="qbank-test-closed")
    if test.status != QbankTestStatus.ABANDONED:
        test.status = QbankTestStatus.ABANDONED
        test.finished_at = utcnow()
        await session.flush()
    return await test_view(session, test, enrollment.course_id)


async def question_statistics(
    session: AsyncSession, actor: Actor, course_id: int
) -> Sequence[QbankQuestion]:
    """The course's questions with their maintained statistics, for its admins and staff."""
    if not actor.is_staff:
        raise Forbidden("Only admins and instructors read Q-bank statistics.")
    await course_for(session, actor, course_id, CourseAction.SEE_LEARNERS)
    return (
        await session.scalars(
            select(QbankQuestion)
            .where(QbankQuestion.course_id == course_id)
            .order_by(QbankQuestion.topic, QbankQuestion.id)
        )
    ).all()
