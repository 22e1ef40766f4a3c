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
    if standing is None:
        return Decision(Outcome.ENROLL, "enrolls the learner")
    if not is_enrolled(standing.status):
        return Decision(
            Outcome.REACTIVATE,
            f"reactivates the {standing.status} enrollment with its progress",
        )
    return Decision(Outcome.ALREADY_ENROLLED, f"already enrolled ({standing.status})")


def _unenroll(standing: Standing | None) -> Decision:
    if standing is None or not is_enrolled(standing.status):
        return Decision(Outcome.NOT_ENROLLED, "not enrolled: nothing to do")
    if standing.paid:
        return Decision(Outcome.ERROR, "paid for the course: refund the payment to unenroll")
    return Decision(Outcome.UNENROLL, "cancels the enrollment, keeping its progress")


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
