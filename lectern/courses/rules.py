"""Course status and access as the edge receives them, parsed to their canonical form, and
who may see a course's lesson content."""

from typing import TypeVar

from lectern.enrollments.rules import is_enrolled
from lectern.models.enums import CourseAccess, CourseStatus
from lectern.platform.actor import Actor
from lectern.staff.rules import CourseAction, may

T = TypeVar("T")

STATUS_ALIASES: dict[str, CourseStatus] = {
    "draft": CourseStatus.DRAFT,
    "unpublished": CourseStatus.DRAFT,
    "inactive": CourseStatus.DRAFT,
    "published": CourseStatus.PUBLISHED,
    "publish": CourseStatus.PUBLISHED,
    "active": CourseStatus.PUBLISHED,
    "live": CourseStatus.PUBLISHED,
    "archived": CourseStatus.ARCHIVED,
    "archive": CourseStatus.ARCHIVED,
    "retired": CourseStatus.ARCHIVED,
}

ACCESS_ALIASES: dict[str, CourseAccess] = {
    "open": CourseAccess.OPEN,
    "free": CourseAccess.OPEN,
    "approval": CourseAccess.APPROVAL,
    "request": CourseAccess.APPROVAL,
    "paid": CourseAccess.PAID,
    "default": CourseAccess.DEFAULT,
}


def _parse(value: object, aliases: dict[str, T], what: str) -> T:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    key = value.strip().casefold()
    if key not in aliases:
        allowed = ", ".join(sorted({str(v) for v in aliases.values()}))
        raise ValueError(f"unknown {what} {value!r}; expected one of {allowed}")
    return aliases[key]


def parse_status(value: object) -> CourseStatus:
    """'Published', ' ACTIVE ' → published; anything unknown raises ValueError."""
    return _parse(value, STATUS_ALIASES, "status")


def parse_access(value: object) -> CourseAccess:
    return _parse(value, ACCESS_ALIASES, "access")


def may_see_content(
    actor: Actor,
    course_institution_id: int,
    enrollment_status: str | None,
    course_role: str | None = None,
) -> bool:
    """Whether the actor sees a course's lesson content (reading bodies, video files and URLs,
    quiz and Q-bank questions) or only its outline.

    The admins of the course's institution and the course's staff (`course_role`, any role)
    see it; a learner sees it while
    enrolled (`active` or `completed`). Nobody else does: not a learner without an enrollment,
    with only a pending, rejected or cancelled request, or with a cancelled enrollment (unenrolled
    by an admin, or refunded); nor anyone of another institution. The rule is "may take the
    course = is enrolled" for every access mode: an `open` or `default` course's content is
    hidden too until the learner enrolls, which there is one click.
    """
    if actor.institution_id != course_institution_id:
        return False
    if actor.is_staff:
        return may(actor, course_role, CourseAction.READ)
    return is_enrolled(enrollment_status)
