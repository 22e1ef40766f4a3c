"""Who may see which event, where a reader stands in the log, and how an event is sent.

The audience rule is `can_see`, for one event, and `visible_to`, the same rule as a WHERE clause
for reading the log; a property test holds the two equal. The fan-out runs `can_see` on every
stream its index finds.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from sqlalchemy import ColumnElement, and_, or_

from lectern.models import Event
from lectern.models.enums import Audience, Role

LEARNER_AUDIENCES = frozenset({Audience.LEARNER.value, Audience.BOTH.value})
STAFF_AUDIENCES = frozenset({Audience.ADMINS.value, Audience.BOTH.value})
ALL_LEARNERS = Audience.LEARNERS.value


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose stream this is: a learner sees their own events, an admin their institution's,
    other staff (instructors) the events of their `courses` only."""

    user_id: int
    institution_id: int
    is_staff: bool
    # The courses a staff viewer follows; None: every course of the institution and the
    # events about none.
    courses: frozenset[int] | None = None

    @classmethod
    def of(
        cls, user_id: int, institution_id: int, role: str, courses: frozenset[int] | None = None
    ) -> "Viewer":
        if role != Role.INSTRUCTOR:
            return cls(user_id, institution_id, role == Role.ADMIN)
        return cls(user_id, institution_id, True, courses or frozenset())


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as read back from the log."""

    id: int
    type: str
    institution_id: int
    user_id: int | None
    audience: str
    payload: dict[str, Any]
    created_at: datetime
    # The course it is about, if any.
    course_id: int | None = None


def can_see(viewer: Viewer, event: LoggedEvent) -> bool:
    """Staff see their institution's events for admins, those about their courses if they follow
    only some; a learner sees their own events for the learner, in their institution, and their
    institution's events for all its learners."""
    if viewer.is_staff:
        return (
            event.institution_id == viewer.institution_id
            and event.audience in STAFF_AUDIENCES
            and (viewer.courses is None or event.course_id in viewer.courses)
        )
    return event.institution_id == viewer.institution_id and (
        event.audience == ALL_LEARNERS
        or (event.user_id == viewer.user_id and event.audience in LEARNER_AUDIENCES)
    )


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """`can_see` as a condition on the events table, clause for clause."""
    if viewer.is_staff:
        staff = and_(
            Event.institution_id == viewer.institution_id,
            Event.audience.in_(sorted(STAFF_AUDIENCES)),
        )
        if viewer.courses is None:
            return staff
        return and_(staff, Event.course_id.in_(sorted(viewer.courses)))
    return and_(
        Event.institution_id == viewer.institution_id,
        or_(
            Event.audience == ALL_LEARNERS,
            and_(
                Event.user_id == viewer.user_id,
                Event.audience.in_(sorted(LEARNER_AUDIENCES)),
            ),
        ),
    )


def merged_institutions(event: LoggedEvent) -> tuple[frozenset[int], int] | None:
    """For an `institution.merged` event, the duplicates' ids and the institution kept."""
    if event.type != "institution.merged":
        return None
    duplicates = frozenset(merged["id"] for merged in event.payload.get("merged", ()))
    return duplicates, event.institution_id


def staff_change(event: LoggedEvent) -> tuple[int, int, bool] | None:
    """For a `course.staff_*` event: the person, the course, and whether they follow it now."""
    if event.type not in ("course.staff_assigned", "course.staff_removed"):
        return None
    following = event.type == "course.staff_assigned"
    return event.payload["user_id"], event.payload["course_id"], following


def resume_from(header_id: int | None, query_id: int | None) -> int | None:
    """The event id a client last saw. A browser's automatic reconnect sends the header, which
    is newer than the query string the page built, so the header wins."""
    return header_id if header_id is not None else query_id


def event_document(event: LoggedEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "institution_id": event.institution_id,
        "user_id": event.user_id,
        "payload": event.payload,
        "created_at": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }


def sse_message(event: LoggedEvent) -> bytes:
    """One SSE message with the default event name (`message`): `id` is the event id and `data`
    the event document; JSON never contains a raw newline, so one `data:` line suffices."""
    data = pydantic_core.to_json(event_document(event), fallback=str)
    return b"id: %d\ndata: %s\n\n" % (event.id, data)
