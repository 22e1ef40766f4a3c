"""The progress rule in SQL, so that the database finds stale progress among a million
enrollments, and the pure rule has the last word on the few it finds.

`stale_progress_candidates` states lectern.progress.rules `course_progress` and `criteria_met`
per active enrollment in one set-based query: the weights of the course's required lessons, of
those the facts complete, and the Q-bank pass where the course requires one. Floating-point
rounding is the one place SQL and Python may part (a sum taken in another order, a share whose
third decimal is exactly 5), so the query also returns every enrollment whose share sits on such
a tie, and `confirm_stale` decides each candidate with the pure functions themselves. A test
with hypothesis proves the two steps together say what the pure functions say.
"""

from typing import Any

from sqlalchemy import Float, Numeric, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.models import Course, Enrollment, Lesson, LessonProgress, QbankTest
from lectern.models.enums import EnrollmentStatus, QbankTestStatus
from lectern.progress.rules import PROGRESS_DECIMALS, course_progress, criteria_met
from lectern.progress.service import progress_items

# Below this, two floats are one progress value (stored progress has two decimals).
SAME = 1e-6
HIGHEST_INCOMPLETE = 100.0 - 10**-PROGRESS_DECIMALS


def _scoped(query: Any, institution_id: int | None) -> Any:
    return query if institution_id is None else query.where(Course.institution_id == institution_id)


def stale_progress_candidates(institution_id: int | None) -> Any:
    """Active enrollments whose stored progress may not be what the facts give, or whose
    criteria hold although they were never completed."""
    required = (
        select(
            Lesson.course_id,
            func.count().label("item_count"),
            func.sum(Lesson.weight).label("weight"),
        )
        .where(Lesson.required.is_(True))
        .group_by(Lesson.course_id)
        .subquery("required")
    )
    done = _scoped(
        select(
            LessonProgress.enrollment_id,
            func.count().label("item_count"),
            func.sum(Lesson.weight).label("weight"),
        )
        .join(Lesson, (Lesson.id == LessonProgress.lesson_id) & Lesson.required.is_(True))
        .join(
            Enrollment,
            (Enrollment.id == LessonProgress.enrollment_id)
            & (Enrollment.course_id == Lesson.course_id),
        )
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            LessonProgress.completed_at.is_not(None),
            Enrollment.status == EnrollmentStatus.ACTIVE,
        ),
        institution_id,
    ).group_by(LessonProgress.enrollment_id)
    done = done.subquery("done")
    passed = _scoped(
        select(QbankTest.enrollment_id)
        .join(Enrollment, Enrollment.id == QbankTest.enrollment_id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Course.qbank_required.is_(True),
            Enrollment.status == EnrollmentStatus.ACTIVE,
            QbankTest.status == QbankTestStatus.COMPLETED,
            QbankTest.score >= Course.qbank_pass_mark,
        ),
        institution_id,
    ).group_by(QbankTest.enrollment_id)
    passed = passed.subquery("passed")

    qbank_item = case((Course.qbank_required.is_(True), 1), else_=0)
    qbank_done = case(
        (Course.qbank_required.is_(True) & passed.c.enrollment_id.is_not(None), 1), else_=0
    )
    items = func.coalesce(required.c.item_count, 0) + qbank_item
    items_done = func.coalesce(done.c.item_count, 0) + qbank_done
    total = func.coalesce(required.c.weight, 0.0) + qbank_item
    share = (
        literal(100.0) * (func.coalesce(done.c.weight, 0.0) + qbank_done) / func.nullif(total, 0)
    )
    rounded = cast(func.round(cast(share, Numeric), PROGRESS_DECIMALS), Float)
    expected = case((rounded > HIGHEST_INCOMPLETE, HIGHEST_INCOMPLETE), else_=rounded)
    cents = share * 10**PROGRESS_DECIMALS
    on_a_tie = func.abs(func.abs(cents - func.round(cents)) - 0.5) < SAME
    incomplete = (items > 0) & (items_done < items)
    query = (
        select(Enrollment.id, Enrollment.user_id, Enrollment.course_id, Enrollment.progress)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(required, required.c.course_id == Enrollment.course_id)
        .outerjoin(done, done.c.enrollment_id == Enrollment.id)
        .outerjoin(passed, passed.c.enrollment_id == Enrollment.id)
        .where(
            Enrollment.status == EnrollmentStatus.ACTIVE,
            or_(
                (items > 0) & (items_done == items),
                (items == 0) & (func.abs(Enrollment.progress) > SAME),
                incomplete & ((func.abs(Enrollment.progress - expected) > SAME) | on_a_tie),
            ),
        )
        .order_by(Enrollment.id)
    )
    return _scoped(query, institution_id)


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
