"""The pure rules of when learners may join a course on their own and how long they stay."""

from datetime import UTC, datetime, timedelta

from lectern.enrollments.rules import access_ends_at, enrollment_open
from lectern.models.enums import EnrollmentSource

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_enrollment_is_open_from_its_opening_until_its_closing() -> None:
    assert enrollment_open(None, None, NOW)
    assert enrollment_open(NOW, None, NOW)  # opening is inclusive
    assert not enrollment_open(NOW + HOUR, None, NOW)
    assert enrollment_open(None, NOW + HOUR, NOW)
    assert not enrollment_open(None, NOW, NOW)  # closing is not
    assert enrollment_open(NOW - HOUR, NOW + HOUR, NOW)
    assert not enrollment_open(NOW - 2 * HOUR, NOW - HOUR, NOW)


def test_a_course_access_duration_ends_only_the_ways_in_it_applies_to() -> None:
    for source in (EnrollmentSource.SELF, EnrollmentSource.REQUEST, EnrollmentSource.PAYMENT):
        assert access_ends_at(source, 30, NOW) == NOW + timedelta(days=30)
    for source in (EnrollmentSource.ADMIN, EnrollmentSource.DEFAULT, EnrollmentSource.IMPORT):
        assert access_ends_at(source, 30, NOW) is None
    assert access_ends_at(EnrollmentSource.SELF, None, NOW) is None
