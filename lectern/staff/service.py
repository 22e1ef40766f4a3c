"""Course staff: who has which role in which course, the check every course command makes,
and the admins' commands that assign and remove staff."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, delete, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.service import record_event
from lectern.events.types import CourseStaffAssigned, CourseStaffRemoved
from lectern.models import Course, CourseStaff, User
from lectern.models.enums import CourseRole
from lectern.platform.actor import Actor
from lectern.platform.db import Database, insert_for
from lectern.platform.errors import Forbidden, Invalid, NotFound
from lectern.staff.rules import CourseAction, may, may_be_course_staff, roles_allowed


@dataclass(frozen=True, slots=True)
class StaffResult:
    staff: CourseStaff
    user: User
    created: bool


async def course_role(session: AsyncSession, user_id: int, course_id: int) -> str | None:
    role: str | None = await session.scalar(
        select(CourseStaff.role).where(
            CourseStaff.course_id == course_id, CourseStaff.user_id == user_id
        )
    )
    return role


async def course_for(
    session: AsyncSession, actor: Actor, course_id: int, action: CourseAction
) -> Course:
    """The course, if the actor may do `action` in it: a course of another institution, or one
    the actor is not staff of, is not found; an action their course role lacks is forbidden."""
    course = await session.get(Course, course_id)
    if course is None or course.institution_id != actor.institution_id:
        raise NotFound("No such course.")
    if actor.is_admin:
        return course
    role = await course_role(session, actor.id, course.id) if actor.is_staff else None
    if role is None:
        raise NotFound("No such course.")
    if not may(actor, role, action):
        raise Forbidden(f"Your role in this course ({role}) does not allow this.")
    return course


# The names of the actor's values in courses_allowing's condition: a statement built once for
# one actor's role runs for another actor of that role with allowing_values(actor).
ALLOWING_INSTITUTION = "allowing_institution_id"
ALLOWING_USER = "allowing_user_id"


def courses_allowing(actor: Actor, action: CourseAction) -> ColumnElement[bool]:
    """A condition on `Course`: the actor's institution's courses where they may do `action`.
    Its shape depends on the actor's role alone."""
    in_institution = Course.institution_id == bindparam(ALLOWING_INSTITUTION, actor.institution_id)
    if actor.is_admin:
        return in_institution
    staffed = select(CourseStaff.course_id).where(
        CourseStaff.user_id == bindparam(ALLOWING_USER, actor.id),
        CourseStaff.role.in_(roles_allowed(action)),
    )
    return and_(in_institution, Course.id.in_(staffed) if actor.is_staff else false())


def allowing_values(actor: Actor) -> dict[str, int]:
    """The parameters that make a condition of courses_allowing the actor's."""
    return {ALLOWING_INSTITUTION: actor.institution_id, ALLOWING_USER: actor.id}


def role_stand_in(role: str) -> Actor:
    """An actor who is nobody but `role`: courses_allowing gives a statement built once per
    role, which runs for a real actor of that role with allowing_values(actor)."""
    return Actor(id=0, institution_id=0, role=role, is_platform_admin=False, email="", full_name="")


async def followed_courses(database: Database, actor: Actor) -> frozenset[int] | None:
    """The courses whose events the actor's stream carries; None: all of the institution's."""
    if actor.is_admin or not actor.is_staff:
        return None
    async with database.reader() as reader:
        found = await reader.scalars(
            select(CourseStaff.course_id).where(
                CourseStaff.user_id == actor.id,
                CourseStaff.role.in_(roles_allowed(CourseAction.SEE_LEARNERS)),
            )
        )
        return frozenset(found)


async def add_creator(session: AsyncSession, actor: Actor, course_id: int) -> None:
    """An instructor who creates a course is its instructor."""
    if may_be_course_staff(actor.role):
        session.add(CourseStaff(course_id=course_id, user_id=actor.id, role=CourseRole.INSTRUCTOR))
        await session.flush()


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin assigns course staff.")


async def _staff_member(session: AsyncSession, actor: Actor, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.institution_id != actor.institution_id:
        raise NotFound("No such user.")
    if not may_be_course_staff(user.role):
        raise Invalid(
            f"Course roles are for instructors, not for {user.role}s.", slug="not-an-instructor"
        )
    return user


async def assign_staff(
    session: AsyncSession, actor: Actor, course_id: int, user_id: int, role: CourseRole
) -> StaffResult:
    """Give an instructor of the institution a role in a course, or change it; the same role
    again changes nothing."""
    _require_admin(actor)
    course = await course_for(session, actor, course_id, CourseAction.EDIT)
    user = await _staff_member(session, actor, user_id)
    key = {"course_id": course.id, "user_id": user.id}
    created = await session.scalar(
        insert_for(session)(CourseStaff)
        .values(**key, role=role)
        .on_conflict_do_nothing(index_elements=["course_id", "user_id"])
        .returning(CourseStaff.user_id)
    )
    changed = created is not None or (
        await session.scalar(
            update(CourseStaff)
            .where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id)
            .where(CourseStaff.role != role)
            .values(role=role)
            .returning(CourseStaff.user_id)
        )
        is not None
    )
    if changed:
        record_event(
            session,
            CourseStaffAssigned(course_id=course.id, user_id=user.id, role=role),
            institution_id=course.institution_id,
        )
    staff = (
        await session.scalars(
            select(CourseStaff).filter_by(**key).execution_options(populate_existing=True)
        )
    ).one()
    return StaffResult(staff, user, created is not None)


async def remove_staff(session: AsyncSession, actor: Actor, course_id: int, user_id: int) -> None:
    """Take a person's role in a course away."""
    _require_admin(actor)
    course = await course_for(session, actor, course_id, CourseAction.EDIT)
    role = await session.scalar(
        delete(CourseStaff)
        .where(CourseStaff.course_id == course.id, CourseStaff.user_id == user_id)
        .returning(CourseStaff.role)
    )
    if role is None:
        raise NotFound("This person is not staff of this course.")
    record_event(
        session,
        CourseStaffRemoved(course_id=course.id, user_id=user_id, role=CourseRole(role)),
        institution_id=course.institution_id,
    )


async def course_staff(
    session: AsyncSession, actor: Actor, course_id: int
) -> list[tuple[CourseStaff, User]]:
    """A course's staff with who they are, for those who may read the course."""
    course = await course_for(session, actor, course_id, CourseAction.READ)
    rows = await session.execute(
        select(CourseStaff, User)
        .join(User, User.id == CourseStaff.user_id)
        .where(CourseStaff.course_id == course.id)
        .order_by(User.full_name, User.id)
    )
    return [(staff, user) for staff, user in rows]


async def teaching_staff(session: AsyncSession, course_id: int) -> list[tuple[str, str]]:
    """Who teaches a course, as learners see it on its page: (full name, course role) of its
    instructors and teaching assistants; observers are not shown."""
    rows = await session.execute(
        select(User.full_name, CourseStaff.role)
        .join(User, User.id == CourseStaff.user_id)
        .where(
            CourseStaff.course_id == course_id,
            CourseStaff.role.in_([CourseRole.INSTRUCTOR, CourseRole.TEACHING_ASSISTANT]),
        )
        .order_by(CourseStaff.role, User.full_name, User.id)
    )
    return [(name, role) for name, role in rows]
