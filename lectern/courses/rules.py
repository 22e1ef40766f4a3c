"""Course status and access as the edge receives them, parsed to their canonical form."""

from typing import TypeVar

from lectern.models.enums import CourseAccess, CourseStatus

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
