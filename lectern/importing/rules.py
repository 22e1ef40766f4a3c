"""Pure rules of the legacy import: how each drifting legacy value is read and decided.

Nothing here touches a database; the planner applies them row by row, and the tests call them
directly.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from lectern.courses.rules import parse_status
from lectern.models.enums import (
    CourseAccess,
    CourseStatus,
    EnrollmentStatus,
    LessonKind,
    PaymentStatus,
    QbankTestStatus,
    RequestStatus,
    Role,
)
from lectern.progress.rules import passes, quiz_score, video_complete

# A hash Lectern can verify: bcrypt as the legacy platform wrote it ($2a$, $2b$, $2y$).
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
BCRYPT_LENGTH = 60
# Stored for a user who must set a password through reset: no password verifies against it.
NO_PASSWORD = "!no-password"  # noqa: S105 (not a password: a hash nothing matches)
DEFAULT_PASS_MARK = 0.7
# Distinct spellings of a status or kind remembered once parsed: a table repeats a few.
SPELLINGS = 4096


def email_key(email: str) -> str:
    """One person per e-mail, compared case-insensitively (as Lectern's users.email_key)."""
    return email.strip().lower()


def usable_password_hash(value: str | None) -> str | None:
    """The legacy hash if it is a well-formed bcrypt hash Lectern can verify, else None."""
    if not value:
        return None
    value = value.strip()
    if len(value) != BCRYPT_LENGTH or not value.startswith(BCRYPT_PREFIXES):
        return None
    return value


@lru_cache(maxsize=SPELLINGS)
def parse_role(value: str | None) -> Role | None:
    """'STUDENT', 'student', ' Admin ' → the role; None when it names none."""
    try:
        return Role((value or "").strip().casefold())
    except ValueError:
        return None


@lru_cache(maxsize=SPELLINGS)
def parse_course_status(value: str | None) -> CourseStatus | None:
    """'Published', 'active' → published, as Lectern's edge parses it; None when unknown."""
    try:
        return parse_status(value)
    except ValueError:
        return None


def course_access(*, is_default_unlocked: bool, price_cents: int, requires_approval: bool) -> str:
    """A legacy course's access mode, from its flags, in this order."""
    if is_default_unlocked:
        return CourseAccess.DEFAULT
    if price_cents > 0:
        return CourseAccess.PAID
    if requires_approval:
        return CourseAccess.APPROVAL
    return CourseAccess.OPEN


def cents(amount: float | None) -> int:
    return round((amount or 0) * 100)


@lru_cache(maxsize=SPELLINGS)
def parse_lesson_kind(value: str | None) -> LessonKind | None:
    kind = (value or "").strip().casefold()
    return LessonKind(kind) if kind in {"video", "quiz", "reading"} else None


def pass_mark(percent: float | None) -> float:
    """A quiz's pass mark, percent on the legacy platform, a share of 1 in Lectern."""
    if percent is None:
        return DEFAULT_PASS_MARK
    return min(max(percent / 100, 0.0), 1.0)


@lru_cache(maxsize=SPELLINGS)
def parse_enrollment_status(value: str | None) -> EnrollmentStatus | None:
    try:
        return EnrollmentStatus((value or "").strip().casefold())
    except ValueError:
        return None


@lru_cache(maxsize=SPELLINGS)
def parse_request_status(value: str | None) -> RequestStatus | None:
    try:
        return RequestStatus((value or "").strip().casefold())
    except ValueError:
        return None


@lru_cache(maxsize=SPELLINGS)
def parse_test_status(value: str | None) -> QbankTestStatus | None:
    try:
        return QbankTestStatus((value or "").strip().casefold())
    except ValueError:
        return None


def cancelled_by_legacy(statuses: Iterable[EnrollmentStatus | None]) -> bool:
    """Cancelled only where a legacy row says so and none says the learner is enrolled."""
    said = set(statuses)
    return EnrollmentStatus.CANCELLED in said and not (
        {EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED} & said
    )


class PaidState(StrEnum):
    """What a pair's legacy payments say about its enrollment."""

    NONE = "none"
    PAID = "paid"  # a completed, unrefunded payment: the learner must be enrolled
    REFUNDED = "refunded"  # refunded, nothing paid since: what it bought is cancelled


def paid_state(statuses: Iterable[str]) -> PaidState:
    said = set(statuses)
    if PaymentStatus.COMPLETED in said:
        return PaidState.PAID
    if PaymentStatus.REFUNDED in said:
        return PaidState.REFUNDED
    return PaidState.NONE


def payment_status(statuses: Iterable[str | None]) -> PaymentStatus:
    """One payment per provider session: a refund is the last word, then a completion; a
    checkout never completed on the legacy platform is closed as failed."""
    said = {(s or "").strip().casefold() for s in statuses}
    for status in (PaymentStatus.REFUNDED, PaymentStatus.COMPLETED):
        if status in said:
            return status
    return PaymentStatus.FAILED


def enrollment_status(
    legacy_statuses: Iterable[EnrollmentStatus | None], paid: PaidState
) -> EnrollmentStatus:
    """Active or cancelled, before the facts decide completion."""
    if paid == PaidState.REFUNDED:
        return EnrollmentStatus.CANCELLED
    if paid == PaidState.NONE and cancelled_by_legacy(legacy_statuses):
        return EnrollmentStatus.CANCELLED
    return EnrollmentStatus.ACTIVE


def watched_interval(watched_seconds: float, duration_s: float) -> list[list[float]]:
    """The legacy platform kept seconds played, not where: they become one interval from 0,
    cut at the video's end when its duration is known."""
    seconds = max(watched_seconds, 0.0)
    if duration_s > 0:
        seconds = min(seconds, duration_s)
    return [[0.0, seconds]] if seconds > 0 else []


def video_watched(watched_s: float, duration_s: float) -> bool:
    return video_complete(watched_s, duration_s)


def rescore_quiz(correct: Sequence[int], answers: Sequence[object]) -> float:
    """The server's score of a legacy attempt; a missing or unreadable answer is wrong."""
    given = [a if type(a) is int else -1 for a in answers[: len(correct)]]
    given.extend([-1] * (len(correct) - len(given)))
    return quiz_score(correct, given)


def quiz_passed(score: float, mark: float) -> bool:
    return passes(score, mark)


def differs(legacy_percent: float | None, lectern_percent: float) -> bool:
    """Whether a legacy percentage disagrees with Lectern's beyond rounding."""
    return legacy_percent is not None and abs(float(legacy_percent) - lectern_percent) > 0.01


def earliest(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or (second is not None and second < first):
        return second
    return first
