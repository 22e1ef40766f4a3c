"""The progress rule in SQL, so that the database finds stale progress among a million
enrollments, and the pure rule has the last word on the few it finds.

`stale_progress_candidates` states lectern.progress.rules `course_progress` and `criteria_met`
per active enrollment in one set-based query: the weights of the course's required lessons, of
those the facts complete, and the Q-bank pass where the course requires one. It sifts in floats
alone: stored progress has PROGRESS_DECIMALS decimals, so progress that is on that grid and
closer than half a step to the facts' share is the share rounded, and only the rest can be
stale. What floats cannot settle (a share that sits on a tie, summed in another order than
Python sums it; the cap below 100 of an incomplete enrollment; a course whose required weights
sum to nothing) stays a candidate, and `confirm_stale` decides each candidate with the pure
functions themselves. A test with hypothesis proves the two steps together say what the pure
functions say.
"""

from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Course, Enrollment, Lesson, LessonProgress, QbankTest
from lectern.models.enums import EnrollmentStatus, QbankTestStatus
from lectern.progress.rules import PROGRESS_DECIMALS, course_progress, criteria_met
from lectern.progress.service import progress_items

# Below this, two floats are one progress value (stored progress has two decimals).
SAME = 1e-6
STEPS = 10**PROGRESS_DECIMALS  # grid steps per unit of progress
HALF_STEP = 0.5 / STEPS


def _in_institution(course_id: Any, institution_id: int | None) -> Any:
    if institution_id is None:
        return True
    return course_id.in_(select(Course.id).where(Course.institution_id == institution_id))


def _required() -> Any:
    """Each course's required lessons: how many, and their weight."""
    return (
        select(
            Lesson.course_id,
            func.count().label("item_count"),
            func.sum(Lesson.weight).label("weight"),
        )
        .where(Lesson.required.is_(True))
        .group_by(Lesson.course_id)
        .subquery("required")
    )


def _done(institution_id: int | None) -> Any:
    """The required lessons each enrollment's facts complete, per course of the lessons (an
    enrollment counts only its own course's), without reading the enrollments."""
    return (
        select(
            LessonProgress.enrollment_id,
            Lesson.course_id,
            func.count().label("item_count"),
            func.sum(Lesson.weight).label("weight"),
        )
        .join(Lesson, (Lesson.id == LessonProgress.lesson_id) & Lesson.required.is_(True))
        .where(
            LessonProgress.completed_at.is_not(None),
            _in_institution(Lesson.course_id, institution_id),
        )
        .group_by(LessonProgress.enrollment_id, Lesson.course_id)
        .subquery("done")
    )


def _passed(institution_id: int | None) -> Any:
    """Active enrollments of courses that require the Q-bank whose learner passed a test."""
    return (
        select(QbankTest.enrollment_id)
        .join(Enrollment, Enrollment.id == QbankTest.enrollment_id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Course.qbank_required.is_(True),
            Enrollment.status == EnrollmentStatus.ACTIVE,
            QbankTest.status == QbankTestStatus.COMPLETED,
            QbankTest.score >= Course.qbank_pass_mark,
            _in_institution(Course.id, institution_id),
        )
        .group_by(QbankTest.enrollment_id)
        .subquery("passed")
    )


def stale_progress_candidates(institution_id: int | None) -> Any:
    """Active enrollments whose stored progress may not be what the facts give, or whose
    criteria hold although they were never completed."""
    required, done, passed = _required(), _done(institution_id), _passed(institution_id)
    qbank_item = case((Course.qbank_required.is_(True), 1), else_=0)
    qbank_done = case(
        (Course.qbank_required.is_(True) & passed.c.enrollment_id.is_not(None), 1), else_=0
    )
    total = func.coalesce(required.c.weight, 0.0) + qbank_item
    figures = (
        select(
            Enrollment.id,
            Enrollment.user_id,
            Enrollment.course_id,
            Enrollment.progress,
            (func.coalesce(required.c.item_count, 0) + qbank_item).label("items"),
            (func.coalesce(done.c.item_count, 0) + qbank_done).label("items_done"),
            (
                100.0 * (func.coalesce(done.c.weight, 0.0) + qbank_done) / func.nullif(total, 0)
            ).label("share"),
        )
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(required, required.c.course_id == Enrollment.course_id)
        .outerjoin(
            done,
            (done.c.enrollment_id == Enrollment.id) & (done.c.course_id == Enrollment.course_id),
        )
        .outerjoin(passed, passed.c.enrollment_id == Enrollment.id)
        .where(
            Enrollment.status == EnrollmentStatus.ACTIVE,
            _in_institution(Enrollment.course_id, institution_id),
        )
        .subquery("figures")
    )
    f = figures.c
    off_grid = func.abs(f.progress * STEPS - func.round(f.progress * STEPS)) > SAME * STEPS
    not_the_share = f.share.is_(None) | (func.abs(f.progress - f.share) > HALF_STEP - SAME)
    return (
        select(f.id, f.user_id, f.course_id, f.progress)
        .where(
            or_(
                (f["items"] > 0) & (f.items_done == f["items"]),
                (f["items"] == 0) & (func.abs(f.progress) > SAME),
                (f["items"] > 0) & (f.items_done < f["items"]) & (not_the_share | off_grid),
            )
        )
        .order_by(f.id)
    )


async def confirm_stale(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates whose progress the pure rule says is stale, with what it should be."""
    if not rows:
        return []
    enrollments = [
        Enrollment(
            id=r["id"], user_id=r["user_id"], course_id=r["course_id"], progress=r["progress"]
        )
        for r in rows
    ]
    course_ids = {e.course_id for e in enrollments}
    courses = {
        course.id: course
        for course in await session.scalars(select(Course).where(Course.id.in_(course_ids)))
    }
    items = await progress_items(session, enrollments, courses)
    stale = []
    for row in rows:
        expected = course_progress(items[row["id"]])
        if abs(expected - row["progress"]) > SAME or criteria_met(items[row["id"]]):
            stale.append({**row, "expected": expected})
    return stale
