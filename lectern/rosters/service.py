"""Bulk enrollment from a roster file: the dry run says per row what applying would do and why;
applying runs each row as the command a single enrollment runs.

A file is applied in ONE transaction: every row or none. A row with an error (or a file that
cannot be read) refuses the whole file before anything is written, and a row whose command
fails at apply time rolls the file back. What the rows name is looked up set-wise (the
institution's courses, the learners by e-mail, their enrollments and payments) in the same
transaction, under the pairs' locks when applying, then the rows run as the admin commands'
batched forms (`enrollments.batch`): a statement per thousand rows, not several per row.
"""

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.service import invite_students
from lectern.enrollments.batch import Placement, lock_pairs
from lectern.enrollments.pair import fill_freed_seats
from lectern.enrollments.seats import seats_taken
from lectern.enrollments.service import admin_enroll_each, admin_unenroll_each
from lectern.events.service import record_event
from lectern.events.types import EnrollmentImported
from lectern.models import Course, Enrollment, Institution, Payment, User
from lectern.models.base import utcnow
from lectern.models.enums import PaymentStatus
from lectern.platform.actor import Actor
from lectern.platform.errors import Conflict, Forbidden, Invalid
from lectern.rosters.parsing import MAX_ROWS, RosterRefused, RosterRow, parse_roster
from lectern.rosters.rules import (
    SEATING,
    CourseFound,
    Decision,
    Learner,
    Outcome,
    Standing,
    decide,
    duplicates,
    over_seat_limit,
)

# Rows one apply takes: it holds a lock per (learner, course) pair until it commits, and
# PostgreSQL's lock table (max_locks_per_transaction, 64 per connection by default) holds
# about twenty thousand at once on a default server, shared with every other transaction.
MAX_APPLIED_ROWS = 10_000
# Ids per IN list: well under SQLite's and asyncpg's bound-parameter limits.
LOOKUP_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class PlannedRow:
    row: RosterRow
    course_id: int | None
    user_id: int | None
    enrollment_id: int | None
    decision: Decision


@dataclass(frozen=True, slots=True)
class RosterReport:
    filename: str
    applied: bool
    rows: list[PlannedRow]
    # The institution's courses by id and slug, as the plan found them.
    courses: dict[str, Course] = field(default_factory=dict, repr=False, compare=False)

    @property
    def outcomes(self) -> dict[str, int]:
        counted = Counter(planned.decision.outcome.value for planned in self.rows)
        return {outcome.value: counted[outcome.value] for outcome in Outcome}

    @property
    def ok(self) -> bool:
        return not any(planned.decision.outcome == Outcome.ERROR for planned in self.rows)


class RosterInvalid(Invalid):
    slug = "roster-invalid"


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == LOOKUP_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


async def _courses(session: AsyncSession, institution_id: int) -> dict[str, Course]:
    """The institution's courses by id (as text) and by slug, lower-cased."""
    found: dict[str, Course] = {}
    for course in await session.scalars(
        select(Course).where(Course.institution_id == institution_id)
    ):
        found[str(course.id)] = course
        found[course.slug.lower()] = course
    return found


def _one_of(column: Any, values: list[str], dialect_name: str) -> Any:
    """`column IN values` with the values in one bound parameter (an array, or JSON on SQLite):
    an IN list of 100,000 parameters costs SQLAlchemy seconds to render."""
    if dialect_name == "postgresql":
        return column == any_(cast(bindparam("values", values, type_=ARRAY(String)), ARRAY(String)))
    listed: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam("values", json.dumps(values)))
    )
    return column.in_(listed.scalar_subquery())


async def _learners(session: AsyncSession, keys: set[str]) -> dict[str, Any]:
    """The users these e-mail keys name: `id`, `institution_id` and `role` by e-mail key."""
    condition = _one_of(User.email_key, sorted(keys), session.get_bind().dialect.name)
    found = await session.execute(
        select(User.id, User.email_key, User.institution_id, User.role).where(condition)
    )
    return {user.email_key: user for user in found}


async def _standings(
    session: AsyncSession, user_ids: set[int], course_ids: set[int]
) -> dict[tuple[int, int], Standing]:
    enrollments: dict[tuple[int, int], tuple[int, str]] = {}
    paid: set[tuple[int, int]] = set()
    for batch in _chunks(sorted(user_ids)):
        for row in await session.execute(
            select(
                Enrollment.id, Enrollment.user_id, Enrollment.course_id, Enrollment.status
            ).where(Enrollment.user_id.in_(batch), Enrollment.course_id.in_(course_ids))
        ):
            enrollments[(row.user_id, row.course_id)] = (row.id, row.status)
        for payment in await session.execute(
            select(Payment.user_id, Payment.course_id).where(
                Payment.user_id.in_(batch),
                Payment.course_id.in_(course_ids),
                Payment.status == PaymentStatus.COMPLETED,
            )
        ):
            paid.add((payment.user_id, payment.course_id))
    return {
        pair: Standing(enrollment_id, status, pair in paid)
        for pair, (enrollment_id, status) in enrollments.items()
    }


async def plan_roster(
    session: AsyncSession, actor: Actor, data: bytes, filename: str = "roster.csv"
) -> RosterReport:
    """What the file would do, row by row; writes nothing."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can do this.")
    return await _plan(session, actor, parse_roster(data), filename, lock=False)


async def _plan(
    session: AsyncSession, actor: Actor, rows: list[RosterRow], filename: str, *, lock: bool
) -> RosterReport:
    """Each row's decision; with `lock`, what it reads of the pairs is read under their locks,
    so the decisions hold until the transaction ends."""
    courses = await _courses(session, actor.institution_id)
    learners = await _learners(session, {row.email_key for row in rows if row.email})
    found_courses = [courses.get(row.course.lower()) if row.course else None for row in rows]
    pairs = {
        (learners[row.email_key].id, course.id)
        for row, course in zip(rows, found_courses, strict=True)
        if course is not None and row.email_key in learners
    }
    if lock:
        await lock_pairs(session, pairs)
    standings = await _standings(
        session,
        {user.id for user in learners.values()},
        {course.id for course in found_courses if course is not None},
    )
    repeated = duplicates(
        [
            (row.email_key, course.id) if course is not None and row.email else None
            for row, course in zip(rows, found_courses, strict=True)
        ]
    )
    for index, first in repeated.items():
        rows[index].errors.append(f"repeats line {rows[first].line} (same e-mail and course)")
    now = utcnow()
    planned = []
    for row, course in zip(rows, found_courses, strict=True):
        user = learners.get(row.email_key)
        standing = None if user is None or course is None else standings.get((user.id, course.id))
        decision = decide(
            row,
            institution_id=actor.institution_id,
            learner=None if user is None else Learner(user.id, user.institution_id, user.role),
            course=None if course is None else CourseFound(course.id, course.status, course.title),
            standing=standing,
            now=now,
        )
        planned.append(
            PlannedRow(
                row,
                None if course is None else course.id,
                None if user is None else user.id,
                None if standing is None else standing.enrollment_id,
                decision,
            )
        )
    planned = await _within_seat_limits(session, planned, courses)
    return RosterReport(filename, applied=False, rows=planned, courses=courses)


async def _within_seat_limits(
    session: AsyncSession, planned: list[PlannedRow], courses: dict[str, Course]
) -> list[PlannedRow]:
    """The rows, those that would find their course full made errors: applying them would
    refuse the whole file (an admin enrolls beyond a limit one learner at a time)."""
    limits = {c.id: c.seat_limit for c in courses.values() if c.seat_limit is not None}
    if not limits:
        return planned
    taken = await seats_taken(session, list(limits))
    over = over_seat_limit([(p.course_id, p.decision.outcome) for p in planned], limits, taken)
    titles = {course.id: course.title for course in courses.values()}
    return [
        replace(
            p,
            decision=Decision(
                Outcome.ERROR,
                f"course {titles[p.course_id]!r} has no seat left (limit {limits[p.course_id]})",
            ),
        )
        if index in over and p.course_id is not None
        else p
        for index, p in enumerate(planned)
    ]


async def import_roster(
    session: AsyncSession, actor: Actor, data: bytes, filename: str = "roster.csv"
) -> RosterReport:
    """Apply a roster file, every row or none; the caller commits. A file with any row in
    error is refused whole (RosterInvalid, carrying each row's report).

    The rows run as the admin enrollment commands do, a statement for many rows at a time:
    invitations, then unenrollments, then enrollments. The seats the file's unenrollments free
    go to its own enrollments first, as applying its rows in order would, and what is left to
    the courses' waitlists."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can do this.")
    rows = parse_roster(data)
    if len(rows) > MAX_APPLIED_ROWS:
        raise RosterRefused(
            f"A file applies at most {MAX_APPLIED_ROWS:,} rows, each (learner, course) locked"
            f" until it is in; this one has {len(rows):,}. Split it (a dry run reads up to"
            f" {MAX_ROWS:,}).",
            slug="roster-too-large",
        )
    report = await _plan(session, actor, rows, filename, lock=True)
    if not report.ok:
        raise RosterInvalid(
            "Some rows cannot be applied; nothing was. Fix them and send the file again.",
            rows=[
                row_report(planned)
                for planned in report.rows
                if planned.decision.outcome == Outcome.ERROR
            ],
        )
    invited = await _invite(session, actor, report.rows)
    unenrolled = [
        p.enrollment_id
        for p in report.rows
        if p.decision.outcome == Outcome.UNENROLL and p.enrollment_id is not None
    ]
    cancelled = await admin_unenroll_each(session, actor, unenrolled, give_freed_seats=False)
    placements = [
        Placement(
            p.user_id if p.user_id is not None else invited[p.row.email_key],
            p.course_id,
            p.row.ends_at,
        )
        for p in report.rows
        if p.decision.outcome in SEATING and p.course_id is not None
    ]
    await admin_enroll_each(session, actor, placements)
    by_id = {course.id: course for course in report.courses.values()}
    for course_id in sorted({row.course_id for row in cancelled}):
        await fill_freed_seats(session, by_id[course_id])
    record_event(
        session,
        EnrollmentImported(filename=filename, rows=len(report.rows), outcomes=report.outcomes),
        institution_id=actor.institution_id,
        user_id=None,
    )
    return RosterReport(filename, applied=True, rows=report.rows)


async def _invite(session: AsyncSession, actor: Actor, rows: list[PlannedRow]) -> dict[str, int]:
    """The accounts of the learners the rows invite, by e-mail key."""
    people = {
        p.row.email_key: (p.row.email, p.row.full_name)
        for p in rows
        if p.decision.outcome == Outcome.INVITE
    }
    if not people:
        return {}
    institution = await session.get_one(Institution, actor.institution_id)
    invited = await invite_students(session, institution=institution, people=list(people.values()))
    for p in rows:
        if p.decision.outcome == Outcome.INVITE and p.row.email_key not in invited:
            raise Conflict(
                f"Line {p.row.line}: {p.row.email} signed up meanwhile; send the file again."
            )
    return invited


def row_report(planned: PlannedRow) -> dict[str, Any]:
    row = planned.row
    return {
        "line": row.line,
        "email": row.email,
        "course": row.course,
        "course_id": planned.course_id,
        "action": row.action.value if row.action else None,
        "ends_at": row.ends_at.isoformat() if row.ends_at else None,
        "outcome": planned.decision.outcome.value,
        "reason": planned.decision.reason,
    }
