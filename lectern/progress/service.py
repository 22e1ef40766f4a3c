"""Recomputing `enrollments.progress` from the facts, and completing courses.

Called by every command that changes a fact or the content, inside its transaction, with the
enrollment rows already locked by the caller (or locked here). Completion happens at most once
per enrollment: the row lock serializes the commands of one enrollment, the status check makes
a second completion a no-op, and the certificate's unique enrollment_id is the last line.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.certificates.service import certificate_payload, issue_certificate
from lectern.events.service import record_event
from lectern.events.types import CertificateIssued, EnrollmentCompleted, ProgressUpdated
from lectern.models import Course, Enrollment, Lesson, LessonProgress, QbankTest
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentStatus, QbankTestStatus
from lectern.notifications.service import notify
from lectern.progress.rules import ProgressItem, course_items, course_progress, criteria_met

# Bound on the ids sent in one IN (...) list; SQLite allows 32,766 parameters.
ID_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class ProgressChange:
    enrollment: Enrollment
    previous: float
    completed_now: bool


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start : start + ID_CHUNK]


async def lock_enrollments(session: AsyncSession, ids: Collection[int]) -> list[Enrollment]:
    """The enrollments, locked FOR UPDATE in id order (so two commands never deadlock)."""
    ordered = sorted(set(ids))
    locked: list[Enrollment] = []
    for chunk in _chunks(ordered):
        locked.extend(
            (
                await session.scalars(
                    select(Enrollment)
                    .where(Enrollment.id.in_(chunk))
                    .order_by(Enrollment.id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).all()
        )
    return locked


async def progress_items(
    session: AsyncSession, enrollments: Sequence[Enrollment], courses: dict[int, Course]
) -> dict[int, list[ProgressItem]]:
    """Each enrollment's required items, from the content and the facts, in a few queries."""
    ids = [e.id for e in enrollments]
    required: dict[int, list[tuple[int, float]]] = defaultdict(list)
    completed: dict[int, set[int]] = defaultdict(set)
    qbank_passed: set[int] = set()
    qbank_courses = [c.id for c in courses.values() if c.qbank_required]
    done = LessonProgress.completed_at.is_not(None)
    for chunk in _chunks(ids):
        # Each enrollment's required lessons, and whether each is done, in one query.
        for enrollment_id, lesson_id, weight, is_done in await session.execute(
            select(Enrollment.id, Lesson.id, Lesson.weight, LessonProgress.lesson_id.is_not(None))
            .join(Lesson, (Lesson.course_id == Enrollment.course_id) & Lesson.required.is_(True))
            .outerjoin(
                LessonProgress,
                (LessonProgress.enrollment_id == Enrollment.id)
                & (LessonProgress.lesson_id == Lesson.id)
                & done,
            )
            .where(Enrollment.id.in_(chunk))
            .order_by(Enrollment.id, Lesson.id)
        ):
            required[enrollment_id].append((lesson_id, weight))
            if is_done:
                completed[enrollment_id].add(lesson_id)
        if qbank_courses:
            qbank_passed.update(
                (
                    await session.scalars(
                        select(QbankTest.enrollment_id)
                        .join(Enrollment, Enrollment.id == QbankTest.enrollment_id)
                        .join(Course, Course.id == Enrollment.course_id)
                        .where(
                            QbankTest.enrollment_id.in_(chunk),
                            QbankTest.status == QbankTestStatus.COMPLETED,
                            QbankTest.score >= Course.qbank_pass_mark,
                        )
                        .distinct()
                    )
                ).all()
            )
    return {
        e.id: course_items(
            required[e.id],
            completed[e.id],
            qbank_required=courses[e.course_id].qbank_required,
            qbank_passed=e.id in qbank_passed,
        )
        for e in enrollments
    }


async def recompute_progress(
    session: AsyncSession,
    enrollments: Sequence[Enrollment],
    *,
    announce: Collection[int] | None = None,
    details: dict[int, dict[str, object]] | None = None,
) -> list[ProgressChange]:
    """Recompute the progress of locked enrollments and complete those whose criteria hold.

    A `progress.updated` event is recorded for each enrollment whose progress changed, and for
    each id in `announce` (the enrollments whose facts the command changed) even if it did not;
    `details` adds per-enrollment fields to that event's payload. Completed enrollments keep
    their status and progress: completion and its certificate are never taken back.
    """
    live = [e for e in enrollments if e.status == EnrollmentStatus.ACTIVE]
    if not live:
        return []
    # Usually one course, often already in the session: get() then needs no query.
    courses = {
        course_id: await session.get_one(Course, course_id)
        for course_id in sorted({e.course_id for e in live})
    }
    items = await progress_items(session, live, courses)
    announce = set(announce or ())
    changes: list[ProgressChange] = []
    for enrollment in live:
        previous = enrollment.progress
        progress = course_progress(items[enrollment.id])
        complete = criteria_met(items[enrollment.id])
        if progress == previous and not complete and enrollment.id not in announce:
            continue
        if progress != previous:
            enrollment.progress = progress
        changes.append(ProgressChange(enrollment, previous, complete))
    await session.flush()
    for change in changes:
        if change.completed_now:
            await complete_enrollment(
                session, change.enrollment, courses[change.enrollment.course_id]
            )
        await _announce(session, change, courses[change.enrollment.course_id], details)
    return changes


async def _announce(
    session: AsyncSession,
    change: ProgressChange,
    course: Course,
    details: dict[int, dict[str, object]] | None,
) -> None:
    enrollment = change.enrollment
    record_event(
        session,
        ProgressUpdated(
            enrollment_id=enrollment.id,
            course_id=course.id,
            course_title=course.title,
            progress=enrollment.progress,
            previous=change.previous,
            status=enrollment.status,
            **(details or {}).get(enrollment.id, {}),
        ),
        institution_id=course.institution_id,
        user_id=enrollment.user_id,
    )


async def complete_enrollment(
    session: AsyncSession, enrollment: Enrollment, course: Course
) -> None:
    """Mark the enrollment completed, issue its one certificate, tell the learner."""
    now = utcnow()
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.completed_at = now
    enrollment.progress = 100.0
    await session.flush()
    record_event(
        session,
        EnrollmentCompleted(
            id=enrollment.id,
            user_id=enrollment.user_id,
            course_id=course.id,
            course_title=course.title,
            status=enrollment.status,
            progress=enrollment.progress,
            completed_at=now,
        ),
        institution_id=course.institution_id,
        user_id=enrollment.user_id,
    )
    certificate = await issue_certificate(session, enrollment, course)
    if certificate is None:
        return
    record_event(
        session,
        CertificateIssued(**certificate_payload(certificate)),
        institution_id=course.institution_id,
        user_id=enrollment.user_id,
    )
    await notify(
        session,
        user_id=enrollment.user_id,
        institution_id=course.institution_id,
        kind="certificate.issued",
        title=f"You completed {course.title}",
        body=f"Your certificate's verification code is {certificate.code}.",
        link=f"/certificates/{certificate.code}",
    )


async def recompute_course(session: AsyncSession, course_id: int) -> list[ProgressChange]:
    """After a content change: recompute every active enrollment of the course.

    Completed enrollments stay completed with their certificate; cancelled ones are recomputed
    when they are reactivated.
    """
    ids = (
        await session.scalars(
            select(Enrollment.id).where(
                Enrollment.course_id == course_id, Enrollment.status == EnrollmentStatus.ACTIVE
            )
        )
    ).all()
    if not ids:
        return []
    return await recompute_progress(session, await lock_enrollments(session, ids))
