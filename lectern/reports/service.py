"""The reports admins and course staff download: enrollments with progress, a course's
gradebook, payments, certificates. Each is a header and the pages of its rows, only of the
courses the reader may see the learners of (`Scope`): an admin's institution's, or those an
instructor is staff of."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import (
    Certificate,
    Chapter,
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    Payment,
    QbankTest,
    User,
)
from lectern.models.enums import LessonKind, QbankTestStatus
from lectern.reports.cells import Pages
from lectern.reports.pages import PAGE_SIZE, Query, keyset_pages

# A condition on `Course`: the courses whose rows a report may carry.
Scope = ColumnElement[bool]


@dataclass(frozen=True, slots=True)
class Filters:
    """What the admin pages filter by: a course, a status, a time range (since inclusive,
    until exclusive)."""

    course_id: int | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Query, filters: Filters, course: Any, status: Any, at: Any) -> Query:
    if filters.course_id is not None and course is not None:
        query = query.where(course == filters.course_id)
    if filters.status is not None and status is not None:
        query = query.where(status == filters.status)
    if filters.since is not None:
        query = query.where(at >= filters.since)
    if filters.until is not None:
        query = query.where(at < filters.until)
    return query


async def _rows(
    session: AsyncSession,
    query: Query,
    filters: Filters,
    *,
    course: Any,
    status: Any,
    at: Any,
    key: Any,
    size: int,
) -> Pages:
    """The report query's rows, filtered, a page at a time in order of `key`."""
    async for page in keyset_pages(
        session, _filtered(query, filters, course, status, at), key, size
    ):
        yield [list(row) for row in page]


ENROLLMENTS_HEADER = (
    "enrollment_id", "learner", "email", "course_id", "course", "status", "source",
    "progress", "enrolled_at", "completed_at",
)  # fmt: skip


def enrollment_pages(
    session: AsyncSession, scope: Scope, filters: Filters, size: int = PAGE_SIZE
) -> Pages:
    query = (
        select(
            Enrollment.id,
            User.full_name,
            User.email,
            Course.id,
            Course.title,
            Enrollment.status,
            Enrollment.source,
            Enrollment.progress,
            Enrollment.created_at,
            Enrollment.completed_at,
        )
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(scope)
    )
    return _rows(
        session, query, filters, course=Enrollment.course_id, status=Enrollment.status,
        at=Enrollment.created_at, key=Enrollment.id, size=size,
    )  # fmt: skip


PAYMENTS_HEADER = (
    "payment_id", "learner", "email", "course_id", "course", "provider", "amount",
    "currency", "status", "created_at", "completed_at", "refunded_at",
)  # fmt: skip


def payment_pages(
    session: AsyncSession, institution_id: int, filters: Filters, size: int = PAGE_SIZE
) -> Pages:
    query = (
        select(
            Payment.id,
            User.full_name,
            User.email,
            Course.id,
            Course.title,
            Payment.provider,
            # In the currency's unit, as the admin pages show it.
            (Payment.amount_cents / 100.0).label("amount"),
            Payment.currency,
            Payment.status,
            Payment.created_at,
            Payment.completed_at,
            Payment.refunded_at,
        )
        .outerjoin(User, User.id == Payment.user_id)
        .join(Course, Course.id == Payment.course_id)
        .where(Payment.institution_id == institution_id)
    )
    return _rows(
        session, query, filters, course=Payment.course_id, status=Payment.status,
        at=Payment.created_at, key=Payment.id, size=size,
    )  # fmt: skip


CERTIFICATES_HEADER = (
    "code", "learner", "email", "course_id", "course", "issued_at",
)  # fmt: skip


def certificate_pages(
    session: AsyncSession, scope: Scope, filters: Filters, size: int = PAGE_SIZE
) -> Pages:
    query = (
        select(
            Certificate.code,
            Certificate.learner_name,
            User.email,
            Course.id,
            Certificate.course_title,
            Certificate.issued_at,
        )
        .join(User, User.id == Certificate.user_id)
        .join(Course, Course.id == Certificate.course_id)
        .where(scope)
    )
    return _rows(
        session, query, filters, course=Certificate.course_id, status=None,
        at=Certificate.issued_at, key=Certificate.code, size=size,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Gradebook:
    """A course's gradebook columns: one per lesson (completion, or a quiz's best score)."""

    course_id: int
    lessons: list[tuple[int, str, str]]

    @property
    def header(self) -> list[str]:
        lesson_columns = [
            f"{title} (best score)" if kind == LessonKind.QUIZ else f"{title} (completed)"
            for _, title, kind in self.lessons
        ]
        return [
            "learner", "email", "status", "progress", *lesson_columns,
            "qbank_tests_finished", "qbank_best_score",
        ]  # fmt: skip


async def gradebook_of(session: AsyncSession, course_id: int) -> Gradebook:
    """The gradebook's columns of a course the reader may see the learners of."""
    lessons = await session.execute(
        select(Lesson.id, Lesson.title, Lesson.kind)
        .join(Chapter, Chapter.id == Lesson.chapter_id)
        .where(Lesson.course_id == course_id)
        .order_by(Chapter.position, Chapter.id, Lesson.position, Lesson.id)
    )
    return Gradebook(course_id, [tuple(row) for row in lessons])  # type: ignore[misc]


async def gradebook_pages(
    session: AsyncSession, gradebook: Gradebook, filters: Filters, size: int = PAGE_SIZE
) -> Pages:
    """Per learner of the course: each lesson's completion or quiz best score, and their
    Q-bank tests."""
    query = (
        select(
            Enrollment.id,
            User.full_name,
            User.email,
            Enrollment.status,
            Enrollment.progress,
        )
        .join(User, User.id == Enrollment.user_id)
        .where(Enrollment.course_id == gradebook.course_id)
    )
    query = _filtered(query, filters, None, Enrollment.status, Enrollment.created_at)
    async for page in keyset_pages(session, query, Enrollment.id, size):
        ids = [row[0] for row in page]
        facts: dict[int, dict[int, Any]] = defaultdict(dict)
        for fact in await session.execute(
            select(
                LessonProgress.enrollment_id,
                LessonProgress.lesson_id,
                LessonProgress.completed_at,
                LessonProgress.best_score,
            ).where(LessonProgress.enrollment_id.in_(ids))
        ):
            facts[fact.enrollment_id][fact.lesson_id] = fact
        qbank = {
            row.enrollment_id: row
            for row in await session.execute(
                select(
                    QbankTest.enrollment_id,
                    func.count().label("finished"),
                    func.max(QbankTest.score).label("best"),
                )
                .where(
                    QbankTest.enrollment_id.in_(ids),
                    QbankTest.status == QbankTestStatus.COMPLETED,
                )
                .group_by(QbankTest.enrollment_id)
            )
        }
        yield [
            [
                *row[1:],
                *(
                    _lesson_cell(facts[row[0]].get(lesson_id), kind)
                    for lesson_id, _, kind in gradebook.lessons
                ),
                qbank[row[0]].finished if row[0] in qbank else 0,
                qbank[row[0]].best if row[0] in qbank else None,
            ]
            for row in page
        ]


def _lesson_cell(fact: Any, kind: str) -> Any:
    if kind == LessonKind.QUIZ:
        return None if fact is None else fact.best_score
    return fact is not None and fact.completed_at is not None
