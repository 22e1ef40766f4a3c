"""What one generated learner did in one course: the facts, and the progress they give.

Pure: a seeded random generator in, rows out. Every fact is one the commands would have
written (a video's watched intervals and their union, a quiz attempt scored by its answers, a
Q-bank test whose score is its share of right answers), and the progress is what
lectern.progress.rules computes from them.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lectern.models.enums import LessonKind, QbankTestStatus
from lectern.progress.rules import (
    course_items,
    course_progress,
    covered_seconds,
    criteria_met,
    merge_intervals,
    passes,
    qbank_score,
    quiz_score,
)

QBANK_TEST_SIZE = 5
QUIZ_CHOICES = 4


@dataclass(frozen=True, slots=True)
class LessonShape:
    id: int
    kind: str
    required: bool
    weight: float
    duration_s: float
    pass_mark: float
    answers: tuple[int, ...]  # a quiz's right answers


@dataclass(frozen=True, slots=True)
class QuestionShape:
    id: int
    answer: int
    choices: int


@dataclass(frozen=True, slots=True)
class CourseShape:
    id: int
    institution_id: int
    title: str
    access: str
    price_cents: int
    qbank_required: bool
    qbank_pass_mark: float
    lessons: tuple[LessonShape, ...]
    questions: tuple[QuestionShape, ...]

    @property
    def required(self) -> list[tuple[int, float]]:
        return [(lesson.id, lesson.weight) for lesson in self.lessons if lesson.required]


@dataclass
class LessonFact:
    lesson_id: int
    watched: list[list[float]] = field(default_factory=list)
    watched_s: float = 0.0
    best_score: float | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    lesson_id: int
    answers: list[int]
    score: float
    passed: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Test:
    status: str
    score: float | None
    # (question id, position, choice, right) for each drawn question; choice None: unanswered.
    questions: list[tuple[int, int, int | None, bool | None]]
    at: datetime


@dataclass
class Learning:
    """One enrollment's facts and the progress they give."""

    lessons: list[LessonFact]
    attempts: list[Attempt]
    tests: list[Test]
    progress: float
    complete: bool
    last_at: datetime


def _wrong(answer: int, choices: int) -> int:
    return (answer + 1) % choices


def _video(rng: random.Random, lesson: LessonShape, done: bool, at: datetime) -> LessonFact:
    d = lesson.duration_s
    if done:
        pieces = (
            [[0.0, round(d * 0.6, 1)], [round(d * 0.5, 1), d]] if rng.random() < 0.5 else [[0.0, d]]
        )
    else:
        pieces = [
            [0.0, round(d * rng.uniform(0.1, 0.5), 1)],
            [round(d * 0.6, 1), round(d * 0.8, 1)],
        ]
    watched = [list(interval) for interval in merge_intervals(pieces)]
    return LessonFact(lesson.id, watched, covered_seconds(watched), None, at if done else None)


def _quiz_answers(right: tuple[int, ...], pass_mark: float, passing: bool) -> list[int]:
    """Answers that pass (with one slip when the mark allows it) or fail the quiz."""
    if not passing:
        return [_wrong(answer, QUIZ_CHOICES) for answer in right]
    slipped = [*right[:-1], _wrong(right[-1], QUIZ_CHOICES)]
    return slipped if passes(quiz_score(right, slipped), pass_mark) else list(right)


def _quiz(
    rng: random.Random, lesson: LessonShape, done: bool, at: datetime
) -> tuple[LessonFact, list[Attempt]]:
    tries = [False] * rng.randint(0, 1) + [True] if done else [False]
    attempts = []
    for number, passing in enumerate(tries):
        given = _quiz_answers(lesson.answers, lesson.pass_mark, passing)
        score = quiz_score(lesson.answers, given)
        attempts.append(Attempt(lesson.id, given, score, passing, at + timedelta(minutes=number)))
    best = max(attempt.score for attempt in attempts)
    return LessonFact(lesson.id, best_score=best, completed_at=at if done else None), attempts


def _test(rng: random.Random, course: CourseShape, right: int, at: datetime, status: str) -> Test:
    drawn = rng.sample(course.questions, QBANK_TEST_SIZE)
    answered = QBANK_TEST_SIZE if status == QbankTestStatus.COMPLETED else 2
    questions: list[tuple[int, int, int | None, bool | None]] = []
    for position, question in enumerate(drawn):
        if position >= answered:
            questions.append((question.id, position, None, None))
            continue
        good = position < right
        choice = question.answer if good else _wrong(question.answer, question.choices)
        questions.append((question.id, position, choice, good))
    score = qbank_score(right, QBANK_TEST_SIZE) if status == QbankTestStatus.COMPLETED else None
    return Test(status, score, questions, at)


def _qbank_rights(mark: float, passing: bool) -> int:
    """How many right answers of a test pass (the fewest) or fail (the most) the mark."""
    rights = [
        n
        for n in range(QBANK_TEST_SIZE + 1)
        if passes(qbank_score(n, QBANK_TEST_SIZE), mark) == passing
    ]
    return min(rights) if passing else max(rights)


def learn(rng: random.Random, course: CourseShape, start: datetime, *, finish: bool) -> Learning:
    """The facts of a learner who finished the course, or who did part of it (never all)."""
    required = [lesson for lesson in course.lessons if lesson.required]
    done = {lesson.id: finish or rng.random() < 0.5 for lesson in course.lessons}
    if not finish and all(done[lesson.id] for lesson in required):
        done[rng.choice(required).id] = False
    facts: list[LessonFact] = []
    attempts: list[Attempt] = []
    tests: list[Test] = []
    at = start
    for lesson in course.lessons:
        at += timedelta(minutes=rng.randint(5, 600))
        is_done = done[lesson.id]
        touched = is_done or rng.random() < 0.5
        if lesson.kind == LessonKind.VIDEO and touched:
            facts.append(_video(rng, lesson, is_done, at))
        elif lesson.kind == LessonKind.READING and is_done:
            facts.append(LessonFact(lesson.id, completed_at=at))
        elif lesson.kind == LessonKind.QUIZ and touched:
            fact, tries = _quiz(rng, lesson, is_done, at)
            facts.append(fact)
            attempts.extend(tries)
        elif lesson.kind == LessonKind.QBANK and touched:
            if is_done:
                right = _qbank_rights(max(lesson.pass_mark, course.qbank_pass_mark), True)
                tests.append(_test(rng, course, right, at, QbankTestStatus.COMPLETED))
                facts.append(LessonFact(lesson.id, completed_at=at))
            elif rng.random() < 0.5:
                # A finished test below both marks: counted in the statistics, completes nothing.
                right = _qbank_rights(min(lesson.pass_mark, course.qbank_pass_mark), False)
                tests.append(_test(rng, course, right, at, QbankTestStatus.COMPLETED))
            else:
                tests.append(_test(rng, course, 0, at, QbankTestStatus.IN_PROGRESS))
    completed_ids = {fact.lesson_id for fact in facts if fact.completed_at is not None}
    qbank_passed = any(
        t.score is not None and passes(t.score, course.qbank_pass_mark) for t in tests
    )
    items = course_items(
        course.required,
        completed_ids,
        qbank_required=course.qbank_required,
        qbank_passed=qbank_passed,
    )
    return Learning(facts, attempts, tests, course_progress(items), criteria_met(items), at)
