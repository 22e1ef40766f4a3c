"""The consistency invariants: each one set-based query that returns the violating rows.

The schema makes most drift impossible; these catch what comes from outside the commands
(hand edits, restores, imports) and prove the rest.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.audit.aggregates import TALLY_INVARIANTS
from lectern.audit.progress_rule import confirm_stale, stale_progress_candidates
from lectern.audit.qbank_statistics import qbank_statistics_off
from lectern.institutions.rules import normalize_name
from lectern.models import (
    AccessRequest,
    Certificate,
    Course,
    Enrollment,
    Institution,
    Payment,
    StudentProfile,
    User,
)
from lectern.models.base import utcnow
from lectern.models.enums import (
    EnrollmentStatus,
    PaymentStatus,
    RequestStatus,
    Role,
)

Rows = list[dict[str, Any]]
Finish = Callable[[AsyncSession, Rows], Awaitable[Rows]]
# Any select, whatever its columns.
AnySelect = Select[*tuple[Any, ...]]
ENROLLED = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
# Violating rows fetched at a time (and candidates confirmed at a time).
STREAM_CHUNK = 10_000


@dataclass(frozen=True)
class Invariant:
    name: str
    description: str
    query: Callable[[int | None], AnySelect]
    # Finishes in Python a check that SQL cannot state portably, over all the query's rows.
    finish: Finish | None = None
    # Decides in Python which of the query's candidates violate it, a chunk at a time.
    confirm: Finish | None = None
    repairable: bool = True
    # Reads a table that grows with the enrollments in full: started first when run in parallel.
    heavy: bool = False


def _pair_enrolled(user_id: Any, course_id: Any) -> Any:
    return exists().where(
        Enrollment.user_id == user_id,
        Enrollment.course_id == course_id,
        Enrollment.status.in_(ENROLLED),
    )


def _in(institution_id: int | None, column: Any) -> Any:
    return True if institution_id is None else column == institution_id


def pending_requests_beside_enrollments(institution_id: int | None) -> AnySelect:
    return (
        select(AccessRequest.id, AccessRequest.user_id, AccessRequest.course_id)
        .join(Course, Course.id == AccessRequest.course_id)
        .where(
            AccessRequest.status == RequestStatus.PENDING,
            _pair_enrolled(AccessRequest.user_id, AccessRequest.course_id),
            _in(institution_id, Course.institution_id),
        )
    )


def approved_requests_without_enrollment(institution_id: int | None) -> AnySelect:
    any_enrollment = exists().where(
        Enrollment.user_id == AccessRequest.user_id, Enrollment.course_id == AccessRequest.course_id
    )
    return (
        select(AccessRequest.id, AccessRequest.user_id, AccessRequest.course_id)
        .join(Course, Course.id == AccessRequest.course_id)
        .where(
            AccessRequest.status == RequestStatus.APPROVED,
            ~any_enrollment,
            _in(institution_id, Course.institution_id),
        )
    )


def paid_without_enrollment(institution_id: int | None) -> AnySelect:
    # An enrollment bought for a time stays paid for when it expires.
    bought = exists().where(
        Enrollment.user_id == Payment.user_id,
        Enrollment.course_id == Payment.course_id,
        Enrollment.status.in_((*ENROLLED, EnrollmentStatus.EXPIRED)),
    )
    return select(Payment.id, Payment.user_id, Payment.course_id).where(
        Payment.status == PaymentStatus.COMPLETED,
        Payment.user_id.is_not(None),
        ~bought,
        _in(institution_id, Payment.institution_id),
    )


# The expiry job runs every half minute; past this, an active enrollment is overdue.
EXPIRY_GRACE = timedelta(minutes=1)


def active_past_their_end(institution_id: int | None) -> AnySelect:
    return (
        select(Enrollment.id, Enrollment.user_id, Enrollment.course_id, Enrollment.ends_at)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Enrollment.status == EnrollmentStatus.ACTIVE,
            Enrollment.ends_at < utcnow() - EXPIRY_GRACE,
            _in(institution_id, Course.institution_id),
        )
    )


def students_without_profile(institution_id: int | None) -> AnySelect:
    return select(User.id, User.email).where(
        User.role == Role.STUDENT,
        ~exists().where(StudentProfile.user_id == User.id),
        _in(institution_id, User.institution_id),
    )


def institutions_sharing_a_name(institution_id: int | None) -> AnySelect:
    """Candidates only: `normalized_name_clashes` finishes the check in Python, because
    Unicode case folding and whitespace collapsing have no portable SQL form."""
    # Every institution is a candidate, since a clash involves others whatever the scope.
    in_scope = true() if institution_id is None else Institution.id == institution_id
    return select(
        Institution.id, Institution.name, Institution.name_key, in_scope.label("in_scope")
    )


async def normalized_name_clashes(
    _session: AsyncSession, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(normalize_name(row["name"]), []).append(row)
    return [
        {k: v for k, v in row.items() if k != "in_scope"}
        for key, group in by_key.items()
        for row in group
        if row["in_scope"] and (len(group) > 1 or row["name_key"] != key)
    ]


def completed_without_certificate(institution_id: int | None) -> AnySelect:
    return (
        select(Enrollment.id, Enrollment.user_id, Enrollment.course_id)
        .join(Course, Course.id == Enrollment.course_id)
        .where(
            Enrollment.status == EnrollmentStatus.COMPLETED,
            ~exists().where(Certificate.enrollment_id == Enrollment.id),
            _in(institution_id, Course.institution_id),
        )
    )


INVARIANTS = [
    Invariant(
        "pending_requests_beside_enrollments",
        "No pending request beside an active or completed enrollment of the same pair.",
        pending_requests_beside_enrollments,
    ),
    Invariant(
        "approved_requests_without_enrollment",
        "Every approved request has an enrollment.",
        approved_requests_without_enrollment,
    ),
    Invariant(
        "paid_without_enrollment",
        "Every completed, unrefunded payment has a non-cancelled enrollment.",
        paid_without_enrollment,
    ),
    Invariant(
        "active_past_their_end",
        "No enrollment is active more than a minute past its end.",
        active_past_their_end,
    ),
    Invariant(
        "stale_progress",
        "Progress equals what the facts give, and met criteria are completed.",
        stale_progress_candidates,
        confirm=confirm_stale,
        heavy=True,
    ),
    Invariant(
        "completed_without_certificate",
        "Every completed enrollment has its certificate.",
        completed_without_certificate,
    ),
    Invariant(
        "students_without_profile",
        "Every student user has a profile.",
        students_without_profile,
    ),
    Invariant(
        "institutions_sharing_a_name",
        "No two institutions share a normalized name.",
        institutions_sharing_a_name,
        finish=normalized_name_clashes,
        repairable=False,
    ),
    Invariant(
        "qbank_statistics_off",
        "Q-bank statistics equal the aggregates of the answers.",
        qbank_statistics_off,
        heavy=True,
    ),
]
# The tallies whose check groups every enrollment by its learner.
HEAVY_TALLIES = {"learner_tallies_off", "institution_tallies_off"}
INVARIANTS += [
    Invariant(name, description, query, heavy=name in HEAVY_TALLIES)
    for name, description, query, _ in TALLY_INVARIANTS
]


async def violations(
    session: AsyncSession, invariant: Invariant, institution_id: int | None, limit: int = 100
) -> tuple[int, list[dict[str, Any]]]:
    """How many rows violate the invariant, and the first `limit` of them; the rows are
    streamed a chunk at a time, so memory stays bounded whatever their number."""
    query = invariant.query(institution_id)
    if invariant.finish is not None:
        candidates = [dict(row) for row in (await session.execute(query)).mappings()]
        found = await invariant.finish(session, candidates)
        return len(found), found[:limit]
    count, first = 0, list[dict[str, Any]]()
    result = await session.stream(query.execution_options(yield_per=STREAM_CHUNK))
    async for chunk in result.mappings().partitions(STREAM_CHUNK):
        rows = [dict(row) for row in chunk]
        if invariant.confirm is not None:
            rows = await invariant.confirm(session, rows)
        count += len(rows)
        first.extend(rows[: limit - len(first)])
    return count, first
