"""Learner commands: activity batches, quiz attempts, and the learner's view of their facts.

An activity batch is applied set-based: the lessons and enrollments are read once, intervals
are merged in Python by the pure rules, every lesson_progress row of the batch is written by
one INSERT … ON CONFLICT DO UPDATE, and progress is recomputed once per affected enrollment.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.rules import is_enrolled
from lectern.events.service import record_event
from lectern.events.types import LessonWatched, QuizAttempted
from lectern.learning.facts import (
    lesson_state,
    load_lesson_facts,
    write_lesson_facts,
)
from lectern.learning.schemas import (
    EnrollmentProgress,
    EventResult,
    LearnerEvent,
    LessonCompleted,
    LessonState,
    VideoWatched,
)
from lectern.models import Course, Enrollment, Lesson, LessonProgress, QuizAttempt
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentStatus, LessonKind
from lectern.platform.actor import Actor
from lectern.platform.errors import Forbidden, Invalid, NotFound
from lectern.progress.rules import (
    back_to_back_joined,
    covered_seconds,
    interval_problem,
    merge_intervals,
    passes,
    quiz_score,
    video_complete,
)
from lectern.progress.service import recompute_progress

EVENT_TYPES = ("video.watched", "lesson.completed")
_event_adapter: TypeAdapter[VideoWatched | LessonCompleted] = TypeAdapter(LearnerEvent)


@dataclass(frozen=True, slots=True)
class ActivityResult:
    results: list[EventResult]
    lessons: list[LessonState]
    enrollments: list[EnrollmentProgress]


def parse_event(raw: Any) -> VideoWatched | LessonCompleted | str:
    """The event, or why it is not one."""
    if not isinstance(raw, dict):
        return "an event must be a JSON object"
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        return f"unknown event type {kind!r}; expected one of {', '.join(EVENT_TYPES)}"
    try:
        return _event_adapter.validate_python(raw)
    except ValidationError as exc:
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'event'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )


def enrollment_progress(enrollment: Enrollment) -> EnrollmentProgress:
    return EnrollmentProgress(
        enrollment_id=enrollment.id,
        course_id=enrollment.course_id,
        status=enrollment.status,
        progress=enrollment.progress,
        completed_at=enrollment.completed_at,
    )


def _require_student(actor: Actor) -> None:
    if not actor.is_student:
        raise Forbidden("Only students record learning activity.")


async def _lessons_of_institution(
    session: AsyncSession, actor: Actor, lesson_ids: set[int]
) -> dict[int, tuple[Lesson, Course]]:
    if not lesson_ids:
        return {}
    # The courses come along so that recomputing progress finds them in the identity map.
    rows = await session.execute(
        select(Lesson, Course)
        .join(Course, Course.id == Lesson.course_id)
        .where(Lesson.id.in_(lesson_ids), Course.institution_id == actor.institution_id)
    )
    return {lesson.id: (lesson, course) for lesson, course in rows}


async def _enrollments_locked(
    session: AsyncSession, user_id: int, course_ids: set[int]
) -> dict[int, Enrollment]:
    """The learner's enrollments in these courses, by course, locked for this transaction."""
    if not course_ids:
        return {}
    # One learner's rows, locked in id order like lock_enrollments, in one round trip.
    locked = await session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user_id, Enrollment.course_id.in_(course_ids))
        .order_by(Enrollment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {e.course_id: e for e in locked}


def _event_problem(
    event: VideoWatched | LessonCompleted,
    lesson: Lesson | None,
    enrollment: Enrollment | None,
) -> str | None:
    if lesson is None:
        return f"no such lesson {event.lesson_id}"
    if enrollment is None or not is_enrolled(enrollment.status):
        return f"you are not enrolled in the course of lesson {lesson.id}"
    if isinstance(event, VideoWatched):
        if lesson.kind != LessonKind.VIDEO:
            return f"lesson {lesson.id} is a {lesson.kind}, not a video"
        return interval_problem(event.from_s, event.to_s, lesson.duration_s)
    if lesson.kind != LessonKind.READING:
        return f"lesson {lesson.id} is a {lesson.kind}; only readings are marked completed"
    return None


async def record_activity(
    session: AsyncSession, actor: Actor, raw_events: Sequence[Any]
) -> ActivityResult:
    """Apply a batch of learner events: each is accepted or rejected with its reason; the
    rejected ones change nothing, the accepted ones are applied together in this transaction.
    """
    _require_student(actor)
    parsed = [parse_event(raw) for raw in raw_events]
    valid = [e for e in parsed if not isinstance(e, str)]
    found = await _lessons_of_institution(session, actor, {e.lesson_id for e in valid})
    lessons = {lesson_id: lesson for lesson_id, (lesson, _course) in found.items()}
    enrollments = await _enrollments_locked(
        session, actor.id, {lesson.course_id for lesson in lessons.values()}
    )
    results: list[EventResult] = []
    accepted: list[tuple[VideoWatched | LessonCompleted, Enrollment]] = []
    for index, event in enumerate(parsed):
        if isinstance(event, str):
            results.append(EventResult(index=index, accepted=False, error=event))
            continue
        lesson = lessons.get(event.lesson_id)
        enrollment = enrollments.get(lesson.course_id) if lesson else None
        problem = _event_problem(event, lesson, enrollment)
        if problem is not None or enrollment is None:
            results.append(EventResult(index=index, accepted=False, error=problem))
            continue
        results.append(EventResult(index=index, accepted=True))
        accepted.append((event, enrollment))
    if not accepted:
        return ActivityResult(results, [], [])

    facts = await load_lesson_facts(session, {(en.id, ev.lesson_id) for ev, en in accepted})
    new_intervals: dict[tuple[int, int], list[list[float]]] = defaultdict(list)
    now = utcnow()
    for event, enrollment in accepted:
        key = (enrollment.id, event.lesson_id)
        if isinstance(event, VideoWatched):
            new_intervals[key].append([event.from_s, event.to_s])
        elif facts[key].completed_at is None:
            facts[key].completed_at = now
            facts[key].changed = True
    for key, intervals in new_intervals.items():
        row = facts[key]
        before, was_complete = list(row.watched), row.completed_at is not None
        merged = [list(i) for i in merge_intervals([*row.watched, *intervals])]
        if merged != row.watched:
            row.watched, row.watched_s, row.changed = merged, covered_seconds(merged), True
        if row.completed_at is None and video_complete(row.watched_s, lessons[key[1]].duration_s):
            row.completed_at, row.changed = now, True
        lesson, course = found[key[1]]
        record_event(
            session,
            LessonWatched(
                enrollment_id=key[0],
                course_id=course.id,
                course_title=course.title,
                lesson_id=lesson.id,
                lesson_title=lesson.title,
                duration_s=lesson.duration_s,
                played=back_to_back_joined(intervals),
                watched_before=[(start, end) for start, end in before],
                completed_now=not was_complete and row.completed_at is not None,
            ),
            institution_id=course.institution_id,
            user_id=actor.id,
        )
    changed = [f for f in facts.values() if f.changed]
    await write_lesson_facts(session, changed)

    touched = {en.id: en for _, en in accepted}
    lesson_updates: dict[int, list[dict[str, object]]] = defaultdict(list)
    for row in changed:
        lesson_updates[row.enrollment_id].append(lesson_state(row).model_dump())
    await recompute_progress(
        session,
        list(touched.values()),
        announce=lesson_updates.keys(),
        details={eid: {"lessons": rows} for eid, rows in lesson_updates.items()},
    )
    return ActivityResult(
        results,
        [lesson_state(f) for f in facts.values()],
        [enrollment_progress(e) for e in touched.values()],
    )


@dataclass(frozen=True, slots=True)
class QuizResult:
    attempt: QuizAttempt
    lesson_completed: bool
    best_score: float
    enrollment: Enrollment


async def submit_quiz(
    session: AsyncSession, actor: Actor, lesson_id: int, answers: Sequence[int]
) -> QuizResult:
    """Score an attempt on the server; passing completes the lesson; the best score is kept."""
    _require_student(actor)
    found = (await _lessons_of_institution(session, actor, {lesson_id})).get(lesson_id)
    if found is None or found[0].kind != LessonKind.QUIZ:
        raise NotFound("No such quiz.")
    lesson, course = found
    enrollment = (await _enrollments_locked(session, actor.id, {lesson.course_id})).get(
        lesson.course_id
    )
    if enrollment is None or not is_enrolled(enrollment.status):
        raise NotFound("No such quiz.", slug="not-enrolled")
    questions = lesson.questions
    if len(answers) != len(questions):
        raise Invalid(f"This quiz has {len(questions)} questions; send one answer for each.")
    for number, (question, answer) in enumerate(zip(questions, answers, strict=True), 1):
        if not 0 <= answer < len(question["choices"]):
            raise Invalid(f"Answer {number} is not one of its question's choices.")
    score = quiz_score([q["answer"] for q in questions], answers)
    passed = passes(score, lesson.pass_mark)
    attempt = QuizAttempt(
        enrollment_id=enrollment.id,
        lesson_id=lesson.id,
        answers=list(answers),
        score=score,
        passed=passed,
        created_at=utcnow(),
    )
    session.add(attempt)
    row = (await load_lesson_facts(session, {(enrollment.id, lesson.id)}))[
        (enrollment.id, lesson.id)
    ]
    row.best_score = max(score, row.best_score or 0.0)
    if passed and row.completed_at is None:
        row.completed_at = utcnow()
    await write_lesson_facts(session, [row])
    await session.flush()
    record_event(
        session,
        QuizAttempted(
            attempt_id=attempt.id,
            enrollment_id=enrollment.id,
            course_id=course.id,
            course_title=course.title,
            lesson_id=lesson.id,
            lesson_title=lesson.title,
            score=score,
            pass_mark=lesson.pass_mark,
            passed=passed,
        ),
        institution_id=course.institution_id,
        user_id=actor.id,
    )
    await recompute_progress(
        session,
        [enrollment],
        announce={enrollment.id},
        details={enrollment.id: {"lessons": [lesson_state(row).model_dump()]}},
    )
    return QuizResult(attempt, row.completed_at is not None, row.best_score, enrollment)


async def course_progress_detail(
    session: AsyncSession, actor: Actor, course_id: int
) -> tuple[Enrollment, list[LessonProgress]]:
    """The caller's enrollment in a course and their facts per lesson."""
    enrollment = await session.scalar(
        select(Enrollment)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Enrollment.user_id == actor.id,
            Enrollment.course_id == course_id,
            Course.institution_id == actor.institution_id,
        )
    )
    if enrollment is None or enrollment.status == EnrollmentStatus.CANCELLED:
        raise NotFound("You are not enrolled in this course.")
    rows = (
        await session.scalars(
            select(LessonProgress)
            .where(LessonProgress.enrollment_id == enrollment.id)
            .order_by(LessonProgress.lesson_id)
        )
    ).all()
    return enrollment, list(rows)
