"""The tallies' invariants: each tally equals the count of its rows.

Each query adds what the rows give to the negated tally, per key, and keeps the keys whose sums
are not zero: one set-based pass, whatever the number of rows, and a missing tally row is a
row of zeros. Each repair recounts the tallies of one key from the rows.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, literal, or_, select, union_all

from lectern.models import (
    CompletionDay,
    Course,
    CourseTally,
    InstitutionTally,
    LearnerTally,
    ProgressBucket,
    User,
)
from lectern.tallies import expected, rebuild
from lectern.tallies.expected import FIGURES, AnySelect

# Summed progress is a float summed in steps; anything closer than this is equal.
TOLERANCE = 1e-3


def _off(
    want: AnySelect,
    stored: AnySelect,
    keys: list[str],
    figures: list[str],
    scope: Callable[[AnySelect, Any], AnySelect],
) -> AnySelect:
    rows = union_all(want, stored).subquery()
    query = select(
        *(rows.c[k] for k in keys), *(func.sum(rows.c[f]).label(f) for f in figures)
    ).group_by(*(rows.c[k] for k in keys))
    return scope(query, rows).having(
        or_(*(func.abs(func.sum(rows.c[f])) > TOLERANCE for f in figures))
    )


def _negated(table: Any, keys: list[str], figures: list[str]) -> AnySelect:
    return select(*(table.c[k] for k in keys), *((-table.c[f]).label(f) for f in figures))


def _of_courses(institution_id: int | None) -> Callable[[AnySelect, Any], AnySelect]:
    def scope(query: AnySelect, rows: Any) -> AnySelect:
        if institution_id is None:
            return query
        return query.join(Course, Course.id == rows.c.course_id).where(
            Course.institution_id == institution_id
        )

    return scope


def course_tallies_off(institution_id: int | None) -> AnySelect:
    """Courses whose tally differs from their enrollments and pending requests, by how much."""
    table = CourseTally.__table__
    return _off(
        expected.course_tallies(),
        _negated(table, ["course_id"], list(FIGURES)),
        ["course_id"],
        list(FIGURES),
        _of_courses(institution_id),
    )


def learner_tallies_off(institution_id: int | None) -> AnySelect:
    """Users whose tally differs from their enrollments and pending requests, by how much."""

    def scope(query: AnySelect, rows: Any) -> AnySelect:
        if institution_id is None:
            return query
        return query.join(User, User.id == rows.c.id).where(User.institution_id == institution_id)

    want = expected.learner_tallies().subquery()
    table = LearnerTally.__table__
    return _off(
        select(want.c.user_id.label("id"), *(want.c[f] for f in FIGURES)),
        select(table.c.user_id, *((-table.c[f]).label(f) for f in FIGURES)),
        ["id"],
        list(FIGURES),
        scope,
    )


def progress_buckets_off(institution_id: int | None) -> AnySelect:
    """A course's progress histogram against its enrollments' progress."""
    keys = ["course_id", "bucket"]
    return _off(
        expected.progress_buckets(),
        _negated(ProgressBucket.__table__, keys, ["enrollments"]),
        keys,
        ["enrollments"],
        _of_courses(institution_id),
    )


def completion_days_off(institution_id: int | None) -> AnySelect:
    """A course's completions per day against its completed enrollments."""
    keys = ["course_id", "day"]
    return _off(
        expected.completion_days(),
        _negated(CompletionDay.__table__, keys, ["completions"]),
        keys,
        ["completions"],
        _of_courses(institution_id),
    )


def institution_tallies_off(institution_id: int | None) -> AnySelect:
    """An institution's students and active learners (summed over its shards) against its
    users and their enrollments."""
    figures = ["students", "active_learners"]

    def scope(query: AnySelect, rows: Any) -> AnySelect:
        if institution_id is None:
            return query
        return query.where(rows.c.institution_id == literal(institution_id))

    want = expected.institution_tallies().subquery()
    return _off(
        select(want.c.institution_id, *(want.c[f] for f in figures)),
        _negated(InstitutionTally.__table__, ["institution_id"], figures),
        ["institution_id"],
        figures,
        scope,
    )


async def _recount_course(session: Any, row: dict[str, Any]) -> None:
    await rebuild.recount_course_tally(session, row["course_id"])


async def _recount_learner(session: Any, row: dict[str, Any]) -> None:
    await rebuild.recount_learner_tally(session, row["id"])


async def _recount_buckets(session: Any, row: dict[str, Any]) -> None:
    await rebuild.recount_progress_buckets(session, row["course_id"])


async def _recount_days(session: Any, row: dict[str, Any]) -> None:
    await rebuild.recount_completion_days(session, row["course_id"])


async def _recount_institution(session: Any, row: dict[str, Any]) -> None:
    await rebuild.recount_institution_tally(session, row["institution_id"])


# Learners before institutions: rewriting a learner's tally moves its institution's count,
# which the institution's recount then sets from the rows.
TALLY_INVARIANTS = [
    (
        "course_tallies_off",
        "Each course's tally equals its enrollments by status, their progress and its pending "
        "requests.",
        course_tallies_off,
        _recount_course,
    ),
    (
        "learner_tallies_off",
        "Each learner's tally equals their enrollments by status, their progress and their "
        "pending requests.",
        learner_tallies_off,
        _recount_learner,
    ),
    (
        "progress_buckets_off",
        "Each course's progress histogram counts its active and completed enrollments.",
        progress_buckets_off,
        _recount_buckets,
    ),
    (
        "completion_days_off",
        "Each course's completions per day count its completed enrollments.",
        completion_days_off,
        _recount_days,
    ),
    (
        "institution_tallies_off",
        "Each institution's students and active learners equal its users'.",
        institution_tallies_off,
        _recount_institution,
    ),
]
