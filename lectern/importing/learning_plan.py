"""Enrollments, requests, payments and learning facts planned, and progress from the facts.

One enrollment per (learner, course) from both legacy enrollment tables, approved requests
and completed payments; its status and progress follow from the imported facts through
Lectern's own pure functions (lectern.progress.rules).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from lectern.importing import legacy_rows, rules
from lectern.importing.plan import CourseInfo, Planner, Ref, Row, _order, row_time
from lectern.models.enums import (
    CourseAccess,
    CourseStatus,
    EnrollmentSource,
    EnrollmentStatus,
    LessonKind,
    PaymentStatus,
    RequestStatus,
)
from lectern.payments.rules import amount_mismatch
from lectern.progress.rules import course_items, course_progress, criteria_met

Pair = tuple[Ref, Ref]
# Distinct (required lessons, lessons done) combinations whose progress is remembered.
PROGRESS_SHAPES = 65_536


NO_FACTS: Row = {
    "enrollment_id": None, "lesson_id": None, "watched": [], "watched_s": 0.0,
    "best_score": None, "completed_at": None, "updated_at": None,
}  # fmt: skip


def lesson_facts(lesson: Ref) -> Row:
    """The lesson_progress row of an enrollment's lesson, filled in as the legacy rows about it
    come: its enrollment, and its last update where no row gave one, are set once the
    enrollment is planned."""
    facts = NO_FACTS.copy()  # a copy takes half the time of building the dict anew
    facts["lesson_id"], facts["watched"] = lesson, []
    return facts


@dataclass(slots=True)
class Enrolled:
    course: CourseInfo
    ref: Ref | None = None  # None until the pair has an enrollment
    existing_status: str | None = None
    statuses: list[EnrollmentStatus | None] = field(default_factory=list)
    legacy_progress: list[float | None] = field(default_factory=list)
    legacy_completed: bool = False
    tables: set[str] = field(default_factory=set)
    created_at: datetime | None = None
    source: str = EnrollmentSource.IMPORT
    paid: rules.PaidState = rules.PaidState.NONE
    facts: dict[Ref, Row] = field(default_factory=dict)  # lesson → its lesson_facts

    @property
    def is_new(self) -> bool:
        return isinstance(self.ref, str)

    def facts_of(self, lesson: Ref) -> Row:
        if (facts := self.facts.get(lesson)) is None:
            facts = self.facts[lesson] = lesson_facts(lesson)
        return facts


class LearningPlanner:
    def __init__(self, planner: Planner) -> None:
        self.p = planner
        self.pairs: dict[Pair, Enrolled] = {}
        self.tally = planner.tally

    def pair_of(self, table: str, person: str | None, course_id: str | None) -> Pair | None:
        """The (user, course) refs of a legacy row, or None (reported) when one is missing."""
        user = self.p.person.get(person or "")
        course = self.p.course.get(course_id or "")
        if user is None or course is None:
            reason = "user_missing" if user is None else "course_missing"
            self.tally.rows[table, "skipped", reason] += 1
            return None
        return (user, course.ref)

    def enrolled(self, pair: Pair) -> Enrolled:
        if (state := self.pairs.get(pair)) is None:
            state = self.pairs[pair] = Enrolled(self.p.course_by_ref[pair[1]])
            user, course = pair
            if isinstance(user, int) and isinstance(course, int):
                found = self.p.known.enrollments.get((user, course))
                if found is not None:
                    state.ref, state.existing_status = found
        return state

    def enroll(self, pair: Pair, source: str, at: datetime, decision: str) -> Enrolled:
        """The pair's enrollment, made now from `source` if it has none."""
        state = self.enrolled(pair)
        if state.ref is None:
            user, course = pair
            state.ref = f"{user}|{course}"
            state.source, state.created_at = source, at
            self.tally.decisions[decision, state.course.institution] += 1
        return state

    # Enrollments from both legacy tables

    def enrollment_tables(self) -> None:
        counted, decided = self.tally.rows, self.tally.decisions
        links = self.p.plan.links
        for table, person in (("enrollments", "user_id"), ("student_progress", "student_id")):
            known = self.p.known.linked(table)
            for row in sorted(self.p.legacy[table], key=_order):
                pair = self.pair_of(table, getattr(row, person), row.course_id)
                if pair is None:
                    continue
                state = self.enrolled(pair)
                if (found := known.get(row.id)) is not None:
                    state.ref = found
                    state.existing_status = state.existing_status or EnrollmentStatus.ACTIVE
                    counted[table, "skipped", "already_imported"] += 1
                    continue
                if table == "enrollments":
                    status = rules.parse_enrollment_status(row.status)
                    state.statuses.append(status)
                    state.legacy_progress.append(row.progress)
                    state.legacy_completed |= status == EnrollmentStatus.COMPLETED
                    at = row_time(row)
                else:
                    state.legacy_progress.append(row.total_progress)
                    at = row.created_at
                    self._readings(state, pair, row)
                first = state.ref is None
                if first:
                    self.enroll(pair, EnrollmentSource.IMPORT, at, "enrollments_imported")
                state.created_at = rules.earliest(state.created_at, at)
                if state.tables and table not in state.tables and state.is_new:
                    decided["enrollments_from_both_tables", state.course.institution] += 1
                state.tables.add(table)
                if first:
                    counted[table, "imported", None] += 1
                else:
                    counted[table, "merged", "same_learner_and_course"] += 1
                links[table].add(row.id, pair_key(state))

    def _readings(self, state: Enrolled, pair: Pair, row: legacy_rows.StudentProgress) -> None:
        done = row.completed_chapters if isinstance(row.completed_chapters, list) else []
        at = row.last_accessed or row.created_at
        institution = state.course.institution
        for chapter_id in done:
            lesson = self.p.lesson.get(str(chapter_id))
            if lesson is None or lesson.course != pair[1]:
                self.tally.decisions["completed_chapters_unknown", institution] += 1
            elif lesson.kind != LessonKind.READING:
                self.tally.decisions["completed_chapters_not_readings_ignored", institution] += 1
            else:
                facts = state.facts_of(lesson.ref)
                facts["completed_at"] = rules.earliest(facts["completed_at"], at)
        if row.watched_videos:
            self.tally.decisions["watched_video_lists_ignored", institution] += 1

    # Payments and requests

    def payments(self) -> None:
        known = self.p.known.linked("payments")
        counted, decided = self.tally.rows, self.tally.decisions
        links = self.p.plan.links
        sessions: dict[str, list[legacy_rows.Payment]] = defaultdict(list)
        for row in self.p.legacy["payments"]:
            sessions[(row.stripe_session_id or "").strip() or f"row:{row.id}"].append(row)
        for checkout, rows in sessions.items():
            if len(rows) > 1:
                rows.sort(key=_order)
            first = rows[0]
            pair = self.pair_of("payments", first.user_id, first.course_id)
            if pair is None:
                if len(rows) > 1:
                    counted["payments", "skipped", "points_at_nothing"] += len(rows) - 1
                continue
            course = self.p.course_by_ref[pair[1]]
            status = rules.payment_status(r.status for r in rows)
            paid_at = max((r.updated_at or r.created_at) for r in rows)
            mismatch = amount_mismatch(
                expected_cents=course.price_cents, expected_currency=course.currency,
                paid_cents=rules.cents(first.amount),
                paid_currency=(first.currency or "").strip()[:3],
            )  # fmt: skip
            if status == PaymentStatus.COMPLETED and mismatch:
                status = PaymentStatus.FLAGGED
                decided["payments_flagged", course.institution] += 1
            found = [k for r in rows if (k := known.get(r.id)) is not None]
            has_checkout = not checkout.startswith("row:")
            ref: Ref = found[0] if found else first.id
            if not found and checkout in self.p.known.payments:
                ref = self.p.known.payments[checkout]
            state = self.enrolled(pair)
            if not found:
                state.paid = max(state.paid, rules.paid_state([status]), key=_paid_rank)
                if status == PaymentStatus.COMPLETED:
                    self.enroll(
                        pair,
                        EnrollmentSource.PAYMENT,
                        first.created_at,
                        "enrollments_from_payments",
                    )
            if isinstance(ref, str):
                self.p.add("payments", {
                    "key": ref, "institution_id": course.institution, "user_id": pair[0],
                    "course_id": pair[1], "provider": "stripe",
                    "checkout_id": checkout[:255] if has_checkout else None,
                    "payment_ref": (first.stripe_payment_intent or None),
                    "amount_cents": max(rules.cents(first.amount), 0),
                    "currency": (first.currency or "usd").strip().lower()[:3],
                    "status": status, "flag_reason": mismatch or "" if status == "flagged" else "",
                    "created_at": first.created_at, "updated_at": paid_at,
                    "completed_at": paid_at if status != PaymentStatus.FAILED else None,
                    "refunded_at": paid_at if status == PaymentStatus.REFUNDED else None,
                })  # fmt: skip
                self.tally.created["payments", course.institution] += 1
            for n, row in enumerate(rows):
                if row.id in known:
                    counted["payments", "skipped", "already_imported"] += 1
                    continue
                if n == 0 and isinstance(ref, str):
                    counted["payments", "imported", None] += 1
                else:
                    counted["payments", "merged", "same_provider_session"] += 1
                    decided["payments_deduplicated", course.institution] += 1
                links["payments"].add(row.id, ref)
        for state in self.pairs.values():
            if state.paid == rules.PaidState.REFUNDED and state.is_new:
                decided["enrollments_cancelled_by_refund", state.course.institution] += 1

    def approved_requests(self) -> list[tuple[Pair, legacy_rows.AccessRequest, RequestStatus]]:
        known = self.p.known.linked("access_requests")
        counted = self.tally.rows
        requests: list[tuple[Pair, legacy_rows.AccessRequest, RequestStatus]] = []
        for row in sorted(self.p.legacy["access_requests"], key=_order):
            pair = self.pair_of("access_requests", row.student_id, row.course_id)
            if pair is None:
                continue
            status = rules.parse_request_status(row.status)
            if status is None:
                counted["access_requests", "skipped", "unknown_status"] += 1
                continue
            if row.id in known:
                counted["access_requests", "skipped", "already_imported"] += 1
                continue
            requests.append((pair, row, status))
            if status == RequestStatus.APPROVED:
                self.enroll(
                    pair,
                    EnrollmentSource.REQUEST,
                    row.reviewed_at or row.created_at,
                    "enrollments_from_approved_requests",
                )
        return requests

    def requests(
        self, requests: list[tuple[Pair, legacy_rows.AccessRequest, RequestStatus]]
    ) -> None:
        counted, decided = self.tally.rows, self.tally.decisions
        links = self.p.plan.links
        people = self.p.person
        pending: dict[Pair, Ref] = {}
        for pair, row, status in requests:
            state = self.pairs.get(pair)
            institution = self.p.course_by_ref[pair[1]].institution
            reviewed_at = row.reviewed_at
            enrolled = (
                state is not None
                and state.ref is not None
                and self.status_of(state) != EnrollmentStatus.CANCELLED
            )
            if status == RequestStatus.PENDING and enrolled:
                status, reviewed_at = RequestStatus.APPROVED, self.p.now
                decided["pending_requests_closed", institution] += 1
            if status == RequestStatus.PENDING and pair in pending:
                counted["access_requests", "merged", "second_pending_request"] += 1
                decided["pending_requests_merged", institution] += 1
                links["access_requests"].add(row.id, pending[pair])
                continue
            if status == RequestStatus.PENDING:
                pending[pair] = row.id
            reviewer = people.get(row.reviewed_by or "")
            self.p.add("access_requests", {
                "key": row.id, "user_id": pair[0], "course_id": pair[1], "status": status,
                "note": row.admin_note or "", "reviewer_id": reviewer,
                "created_at": row.created_at, "reviewed_at": reviewed_at,
            })  # fmt: skip
            counted["access_requests", "imported", None] += 1
            links["access_requests"].add(row.id, row.id)

    def new_enrollments(self) -> list[str]:
        """The keys of the enrollments the import makes."""
        return [state.ref for state in self.pairs.values() if isinstance(state.ref, str)]

    def status_of(self, state: Enrolled) -> str:
        if not state.is_new:
            return state.existing_status or EnrollmentStatus.ACTIVE
        return status_before_facts(state)

    def default_courses(self) -> None:
        """Students who never had an enrollment join their institution's default courses, as
        registration does."""
        enrolled = {user for (user, _), state in self.pairs.items() if state.ref is not None}
        defaults: dict[Ref, list[CourseInfo]] = defaultdict(list)
        for course in self.p.course_by_ref.values():
            if course.access == CourseAccess.DEFAULT and course.status == CourseStatus.PUBLISHED:
                defaults[course.institution].append(course)
        for user in self.p.new_students:
            if user in enrolled:
                continue
            for course in defaults.get(self.p.user_institution[user], []):
                self.enroll(
                    (user, course.ref),
                    EnrollmentSource.DEFAULT,
                    self.p.now,
                    "default_course_enrollments",
                )


def _paid_rank(state: rules.PaidState) -> int:
    return [rules.PaidState.NONE, rules.PaidState.REFUNDED, rules.PaidState.PAID].index(state)


def pair_key(state: Enrolled) -> Ref:
    assert state.ref is not None
    return state.ref


@dataclass(frozen=True)
class Required:
    """A course's required lessons, in order and as a set to look them up in."""

    lessons: tuple[Ref, ...]
    among: frozenset[Ref]

    @classmethod
    def of(cls, lessons: Iterable[Ref]) -> "Required":
        ordered = tuple(lessons)
        return cls(ordered, frozenset(ordered))


NONE_REQUIRED = Required((), frozenset())
NOTHING_DONE: frozenset[Ref] = frozenset()


def progress_of(state: Enrolled, required: Required) -> tuple[float, bool, datetime | None]:
    """Progress, whether completed, and when: by Lectern's pure functions over the facts of
    the course's `required` lessons."""
    if not state.facts:
        return (*_progress(required.lessons, NOTHING_DONE), None)
    among = required.among
    done = {
        ref: at
        for ref, facts in state.facts.items()
        if ref in among and (at := facts["completed_at"]) is not None
    }
    progress, completed = _progress(required.lessons, frozenset(done))
    return progress, completed, (max(done.values()) if completed and done else None)


def status_before_facts(state: Enrolled) -> EnrollmentStatus:
    """rules.enrollment_status of a new enrollment's legacy statuses and payments."""
    return _status(tuple(state.statuses), state.paid)


@lru_cache(maxsize=PROGRESS_SHAPES)
def _status(
    statuses: tuple[EnrollmentStatus | None, ...], paid: rules.PaidState
) -> EnrollmentStatus:
    # Remembered: a handful of combinations are shared by every enrollment.
    return rules.enrollment_status(statuses, paid)


@lru_cache(maxsize=PROGRESS_SHAPES)
def _progress(required: tuple[Ref, ...], done: frozenset[Ref]) -> tuple[float, bool]:
    """A course's progress and completion when `done` of its `required` lessons are; many
    enrollments share one."""
    items = course_items(
        [(n, 1.0) for n in range(len(required))],
        {n for n, ref in enumerate(required) if ref in done},
        qbank_required=False,
        qbank_passed=False,
    )
    return course_progress(items), criteria_met(items)
