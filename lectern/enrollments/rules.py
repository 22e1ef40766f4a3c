"""Which way into a course each access mode allows."""

from lectern.models.enums import CourseAccess, EnrollmentStatus


def self_enroll_allowed(access: str) -> bool:
    return access in (CourseAccess.OPEN, CourseAccess.DEFAULT)


def request_enrolls_at_once(access: str) -> bool:
    """An open or default course needs nobody's approval: asking is enrolling."""
    return access in (CourseAccess.OPEN, CourseAccess.DEFAULT)


def is_enrolled(status: str | None) -> bool:
    return status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
