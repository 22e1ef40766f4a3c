"""What each roster row would do, decided from what the database holds: pure, so the dry run
and the apply decide alike and the tests need no database."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lectern.enrollments.rules import is_enrolled
from lectern.models.enums import CourseStatus, Role
from lectern.rosters.parsing import Action, RosterRow


class Outcome(StrEnum):
    ENROLL = "enroll"
    ALREADY_ENROLLED = "already-enrolled"
    REACTIVATE = "reactivate"
    UNENROLL = "unenroll"
    NOT_ENROLLED = "not-enrolled"
    INVITE = "invite"
    ERROR = "error"


# Outcomes that write nothing when applied.
UNCHANGED = frozenset({Outcome.ALREADY_ENROLLED, Outcome.NOT_ENROLLED})


@dataclass(frozen=True, slots=True)
class Learner:
    id: int
    institution_id: int
    role: str


@dataclass(frozen=True, slots=True)
class CourseFound:
    id: int
    status: str
    title: str


@dataclass(frozen=True, slots=True)
class Standing:
    """The pair's enrollment as it is, and whether a completed payment holds it."""

    enrollment_id: int
    status: str
    paid: bool


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: str


def decide(
    row: RosterRow,
    *,
    institution_id: int,
    learner: Learner | None,
    course: CourseFound | None,
    standing: Standing | None,
    now: datetime,
) -> Decision:
    """What applying the row would do, and why; an error names what is wrong."""
    errors = list(row.errors)
    if course is None and row.course:
        errors.append(f"course {row.course!r} is not one of this institution's courses")
    if learner is not None and (
        learner.institution_id != institution_id or learner.role != Role.STUDENT
    ):
        errors.append(f"{row.email} belongs to an account that is not a student here")
    if row.action == Action.ENROLL:
        if course is not None and course.status == CourseStatus.ARCHIVED:
            errors.append(f"course {course.title!r} is archived")
        if learner is None and not row.full_name and not errors:
            errors.append(f"no student has the e-mail {row.email}; give full_name to invite them")
        if row.ends_at is not None and row.ends_at <= now:
            errors.append("ends_at is not in the future")
    if errors:
        return Decision(Outcome.ERROR, "; ".join(errors))
    if row.action == Action.UNENROLL:
        return _unenroll(standing)
    if learner is None:
        return Decision(Outcome.INVITE, f"invites {row.full_name} <{row.email}> and enrolls them")
    until = f" until {row.ends_at:%Y-%m-%d %H:%M} UTC" if row.ends_at else ""
    if standing is None:
        return Decision(Outcome.ENROLL, f"enrolls the learner{until}")
    if not is_enrolled(standing.status):
        return Decision(
            Outcome.REACTIVATE,
            f"reactivates the {standing.status} enrollment with its progress{until}",
        )
    kept = "; its end stays as it is" if row.ends_at else ""
    return Decision(Outcome.ALREADY_ENROLLED, f"already enrolled ({standing.status}){kept}")


def _unenroll(standing: Standing | None) -> Decision:
    if standing is None or not is_enrolled(standing.status):
        return Decision(Outcome.NOT_ENROLLED, "not enrolled: nothing to do")
    if standing.paid:
        return Decision(Outcome.ERROR, "paid for the course: refund the payment to unenroll")
    return Decision(Outcome.UNENROLL, "cancels the enrollment, keeping its progress")


# Outcomes that take a seat, and the one that frees one.
SEATING = frozenset({Outcome.ENROLL, Outcome.REACTIVATE, Outcome.INVITE})


def over_seat_limit(
    rows: list[tuple[int | None, Outcome]], limits: dict[int, int], taken: dict[int, int]
) -> set[int]:
    """The indexes of the rows, each a (course id, outcome), that would find their course full
    when the file is applied in order: seats taken now, plus those the rows before took or
    freed."""
    seated = dict(taken)
    over = set()
    for index, (course_id, outcome) in enumerate(rows):
        if course_id is None or course_id not in limits:
            continue
        if outcome == Outcome.UNENROLL:
            seated[course_id] = seated.get(course_id, 0) - 1
        elif outcome in SEATING:
            if seated.get(course_id, 0) >= limits[course_id]:
                over.add(index)
            else:
                seated[course_id] = seated.get(course_id, 0) + 1
    return over


def duplicates(keys: list[tuple[str, int] | None]) -> dict[int, int]:
    """For each row index whose (e-mail, course) an earlier row already has, that row's index."""
    first: dict[tuple[str, int], int] = {}
    repeated: dict[int, int] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            repeated[index] = first[key]
        else:
            first[key] = index
    return repeated
