"""Who may do what in a course, tested without a database."""

import pytest

from lectern.models.enums import CourseRole, Role
from lectern.platform.actor import Actor
from lectern.staff.rules import CourseAction, may, may_be_course_staff, roles_allowed

READ, SEE, REVIEW, EDIT = (
    CourseAction.READ,
    CourseAction.SEE_LEARNERS,
    CourseAction.REVIEW_REQUESTS,
    CourseAction.EDIT,
)


def person(role: Role) -> Actor:
    return Actor(
        id=7,
        institution_id=1,
        role=role,
        is_platform_admin=False,
        email="someone@example.test",
        full_name="Someone",
    )


@pytest.mark.parametrize(
    ("course_role", "allowed"),
    [
        ("instructor", {READ, SEE, REVIEW, EDIT}),
        ("ta", {READ, SEE, REVIEW}),
        ("observer", {READ, SEE}),
        (None, set()),
    ],
)
def test_an_instructor_may_do_what_their_course_role_allows_and_nothing_else(
    course_role: str | None, allowed: set[CourseAction]
) -> None:
    instructor = person(Role.INSTRUCTOR)
    assert {a for a in CourseAction if may(instructor, course_role, a)} == allowed


@pytest.mark.parametrize("course_role", [None, "observer"])
def test_an_admin_may_do_everything_whatever_their_course_role(course_role: str | None) -> None:
    assert all(may(person(Role.ADMIN), course_role, action) for action in CourseAction)


@pytest.mark.parametrize("course_role", [None, "instructor", "ta", "observer"])
def test_a_learner_may_do_nothing_as_staff_even_with_a_course_role(
    course_role: str | None,
) -> None:
    assert not any(may(person(Role.STUDENT), course_role, action) for action in CourseAction)


def test_the_roles_allowing_an_action_are_those_whose_rights_include_it() -> None:
    assert roles_allowed(EDIT) == [CourseRole.INSTRUCTOR]
    assert roles_allowed(REVIEW) == [CourseRole.INSTRUCTOR, CourseRole.TEACHING_ASSISTANT]
    assert set(roles_allowed(READ)) == set(CourseRole)


def test_only_instructors_may_be_given_course_roles() -> None:
    assert may_be_course_staff(Role.INSTRUCTOR)
    assert not may_be_course_staff(Role.ADMIN)
    assert not may_be_course_staff(Role.STUDENT)
