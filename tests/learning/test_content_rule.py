"""Who may see a course's lesson content, tested without a database."""

import pytest

from lectern.courses.rules import may_see_content
from lectern.models.enums import Role
from lectern.platform.actor import Actor

HOME, ELSEWHERE = 1, 2


def person(role: Role, institution_id: int = HOME) -> Actor:
    return Actor(
        id=7,
        institution_id=institution_id,
        role=role,
        is_platform_admin=False,
        email="someone@example.test",
        full_name="Someone",
    )


@pytest.mark.parametrize("status", ["active", "completed"])
def test_an_enrolled_learner_sees_the_content(status: str) -> None:
    assert may_see_content(person(Role.STUDENT), HOME, status)


@pytest.mark.parametrize("status", [None, "cancelled", "pending", "expired", ""])
def test_a_learner_not_enrolled_sees_only_the_outline(status: str | None) -> None:
    assert not may_see_content(person(Role.STUDENT), HOME, status)


def test_the_admins_of_the_course_institution_see_the_content_without_enrolling() -> None:
    assert may_see_content(person(Role.ADMIN), HOME, None)


@pytest.mark.parametrize("course_role", ["instructor", "ta", "observer"])
def test_the_course_staff_see_the_content_without_enrolling(course_role: str) -> None:
    assert may_see_content(person(Role.INSTRUCTOR), HOME, None, course_role)


def test_an_instructor_not_staff_of_the_course_does_not_see_its_content() -> None:
    assert not may_see_content(person(Role.INSTRUCTOR), HOME, None)
    assert not may_see_content(person(Role.INSTRUCTOR), HOME, "active")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INSTRUCTOR, Role.STUDENT])
@pytest.mark.parametrize("status", [None, "active", "completed"])
def test_nobody_of_another_institution_sees_the_content(role: Role, status: str | None) -> None:
    assert not may_see_content(person(role, ELSEWHERE), HOME, status)
