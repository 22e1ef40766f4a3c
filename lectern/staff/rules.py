"""Who may do what in a course: the institution's role and the course role combined.

An admin may do everything in their institution's courses. A user with the role `instructor`
reaches only the courses they are staff of (lectern.models.CourseStaff), and there what their
course role allows: an instructor edits the course and its content, sees its learners and their
progress and reviews its access requests; a teaching assistant sees the learners and reviews
requests; an observer reads. A learner is never course staff. A course a person is not staff of
answers as if it did not exist; an action their course role lacks is forbidden.
"""

from enum import StrEnum

from lectern.models.enums import CourseRole, Role
from lectern.platform.actor import Actor


class CourseAction(StrEnum):
    # The course with its content, drafts too, and its staff.
    READ = "read"
    # Its learners, their progress, its figures, its access requests and its events.
    SEE_LEARNERS = "see_learners"
    REVIEW_REQUESTS = "review_requests"
    # Its fields, its status and its content.
    EDIT = "edit"


ALLOWED: dict[CourseRole, frozenset[CourseAction]] = {
    CourseRole.INSTRUCTOR: frozenset(CourseAction),
    CourseRole.TEACHING_ASSISTANT: frozenset(
        {CourseAction.READ, CourseAction.SEE_LEARNERS, CourseAction.REVIEW_REQUESTS}
    ),
    CourseRole.OBSERVER: frozenset({CourseAction.READ, CourseAction.SEE_LEARNERS}),
}


def may(actor: Actor, course_role: str | None, action: CourseAction) -> bool:
    """Whether the actor may do `action` in a course of their institution where their course
    role is `course_role` (None: not staff of it)."""
    if actor.is_admin:
        return True
    if not actor.is_staff or course_role is None:
        return False
    return action in ALLOWED[CourseRole(course_role)]


def roles_allowed(action: CourseAction) -> list[CourseRole]:
    """The course roles that allow `action`."""
    return [role for role, actions in ALLOWED.items() if action in actions]


def may_be_course_staff(institution_role: str) -> bool:
    """Course roles are for instructors: an admin has every right already, a learner none."""
    return institution_role == Role.INSTRUCTOR
