"""Telling open catalogs that a course changed.

Learners' catalogs show published courses, so a change to one that is published, or was until
this change, is announced to everyone in the institution (catalog.changed, naming only the
course); a draft's changes stay with the staff.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.service import record_event
from lectern.events.types import CatalogChanged
from lectern.models import Course
from lectern.models.enums import CourseStatus


def is_listed(status: str) -> bool:
    return status == CourseStatus.PUBLISHED


def catalog_changed(session: AsyncSession, course: Course, *, was_listed: bool) -> None:
    """Announce the change to open catalogs if the course is, or was, published."""
    if was_listed or is_listed(course.status):
        record_event(
            session, CatalogChanged(course_id=course.id), institution_id=course.institution_id
        )
