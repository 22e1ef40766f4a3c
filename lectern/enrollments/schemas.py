from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from lectern.platform.schemas import Id, Input, Output


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as beyond:
        raise ValueError("the time is out of range") from beyond


# A point in time given with its offset (ISO 8601), stored in UTC.
Moment = Annotated[AwareDatetime, Field(strict=False), AfterValidator(_in_utc)]


class EnrollmentOut(Output):
    id: int
    user_id: int
    course_id: int
    status: str
    source: str
    progress: float
    completed_at: datetime | None
    created_at: datetime
    ends_at: datetime | None = None


class MyEnrollmentOut(EnrollmentOut):
    course_title: str
    course_slug: str
    course_status: str


class AccessRequestOut(Output):
    id: int
    user_id: int
    course_id: int
    status: str
    note: str
    reviewer_id: int | None
    created_at: datetime
    reviewed_at: datetime | None
    enrollment: EnrollmentOut | None = None


class QueuedRequestOut(AccessRequestOut):
    course_title: str
    learner_name: str
    learner_email: str


class ReviewIn(Input):
    note: Annotated[str, Field(max_length=2000)] = ""


class AdminEnrollIn(Input):
    user_id: Id
    course_id: Id
    # The enrollment becomes `expired` then; none: it lasts.
    ends_at: Moment | None = None
    # Enroll even when the course's seats are all taken (otherwise 409 course-full).
    override_seat_limit: bool = False


class EnrollmentEndIn(Input):
    # When the enrollment becomes `expired`, in the future; null: it lasts.
    ends_at: Moment | None


class WaitlistPlaceOut(Output):
    """A learner's place in a full course's waitlist: 1 gets the next seat."""

    course_id: int
    user_id: int
    position: int
    course_title: str = ""
