"""Which way into a course each access mode allows, when, and for how long."""

from datetime import datetime, timedelta

from lectern.models.enums import CourseAccess, EnrollmentSource, EnrollmentStatus

# The ways in that last a course's `access_days`; an admin sets an end, or none, by hand.
TIMED_SOURCES = (EnrollmentSource.SELF, EnrollmentSource.REQUEST, EnrollmentSource.PAYMENT)


def self_enroll_allowed(access: str) -> bool:
    return access in (CourseAccess.OPEN, CourseAccess.DEFAULT)


def request_enrolls_at_once(access: str) -> bool:
    """An open or default course needs nobody's approval: asking is enrolling."""
    return access in (CourseAccess.OPEN, CourseAccess.DEFAULT)


def waitlist_allowed(access: str, waitlist: bool) -> bool:
    """A paid course keeps no waitlist: its seats are bought, and a waitlist would enroll a
    learner without a payment or hold a seat for a payment that may never come."""
    return not (waitlist and access == CourseAccess.PAID)


def is_enrolled(status: str | None) -> bool:
    return status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


def enrollment_open(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> bool:
    """Whether learners may join on their own at `now`: from opening (inclusive) to closing."""
    return (opens_at is None or opens_at <= now) and (closes_at is None or now < closes_at)


def access_ends_at(
    source: EnrollmentSource, access_days: int | None, now: datetime
) -> datetime | None:
    """When an enrollment made now through `source` ends by the course's access duration."""
    if access_days is None or source not in TIMED_SOURCES:
        return None
    return now + timedelta(days=access_days)
