"""The admins' students list and a student's page: each student with the figures of their
tallies (or, for course staff, of the courses whose learners they see), paged by keyset along
an index, searchable by name and e-mail. Each statement is built once for each shape of the
page and run with its values: building one took longer than running it."""

import functools
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.analytics.schemas import StudentDetailOut, StudentSummaryOut
from lectern.analytics.service import figures
from lectern.enrollments import queries
from lectern.models import AccessRequest, Course, Enrollment, LearnerTally, User
from lectern.models.enums import EnrollmentStatus, RequestStatus, Role
from lectern.platform.actor import Actor
from lectern.platform.errors import Invalid, NotFound
from lectern.platform.keyset import decode_cursor, encode_cursor
from lectern.platform.schemas import outputs
from lectern.platform.storable import UNSTORABLE_MESSAGE, all_storable
from lectern.staff.rules import CourseAction
from lectern.staff.service import (
    ALLOWING_INSTITUTION,
    allowing_values,
    courses_allowing,
    role_stand_in,
)

MAX_PAGE = 100


class StudentOrder(StrEnum):
    """The orders the students list offers: each one an index's."""

    NAME = "name"
    EMAIL = "email"
    CREATED_AT = "created_at"


SORT_COLUMNS: dict[StudentOrder, tuple[Any, type]] = {
    StudentOrder.NAME: (User.full_name, str),
    StudentOrder.EMAIL: (User.email_key, str),
    StudentOrder.CREATED_AT: (User.created_at, datetime),
}
STUDENT_COLUMNS = (User.id, User.email, User.email_key, User.full_name, User.created_at)


def _in_institution() -> Any:
    return User.institution_id == bindparam(ALLOWING_INSTITUTION, type_=Integer)


def _students_query(role: str) -> Select[Any]:
    """The institution's students with their figures: from their tallies for an admin; for
    course staff, only the learners of the courses whose learners they see, with the figures
    of those courses. For the values of allowing_values(actor)."""
    if role != Role.ADMIN:
        return _staffed_students_query(role)
    return (
        select(*STUDENT_COLUMNS, *figures(LearnerTally))
        .outerjoin(LearnerTally, LearnerTally.user_id == User.id)
        .where(_in_institution(), User.role == Role.STUDENT)
    )


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def _staffed_students_query(role: str) -> Select[Any]:
    seen = select(Course.id).where(courses_allowing(role_stand_in(role), CourseAction.SEE_LEARNERS))
    enrollments = (
        select(Enrollment.user_id, Enrollment.status, Enrollment.progress)
        .where(Enrollment.course_id.in_(seen))
        .subquery()
    )
    pending = (
        select(AccessRequest.user_id, func.count().label("n"))
        .where(AccessRequest.status == RequestStatus.PENDING, AccessRequest.course_id.in_(seen))
        .group_by(AccessRequest.user_id)
        .subquery()
    )
    enrolled = enrollments.c.status.in_([EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED])
    return (
        select(
            *STUDENT_COLUMNS,
            _count_where(enrollments.c.status == EnrollmentStatus.ACTIVE).label(
                "active_enrollments"
            ),
            _count_where(enrollments.c.status == EnrollmentStatus.COMPLETED).label(
                "completed_enrollments"
            ),
            _count_where(enrollments.c.status == EnrollmentStatus.CANCELLED).label(
                "cancelled_enrollments"
            ),
            func.coalesce(func.max(pending.c.n), 0).label("pending_requests"),
            func.coalesce(func.avg(case((enrolled, enrollments.c.progress))), 0.0).label(
                "average_progress"
            ),
        )
        .outerjoin(enrollments, enrollments.c.user_id == User.id)
        .outerjoin(pending, pending.c.user_id == User.id)
        .where(
            _in_institution(),
            User.role == Role.STUDENT,
            (enrollments.c.user_id.is_not(None)) | (pending.c.user_id.is_not(None)),
        )
        .group_by(*STUDENT_COLUMNS)
    )


@functools.cache
def _students_page(
    role: str, order: StudentOrder, search: bool, after: bool, skip: bool
) -> Select[Any]:
    """A page of `size` students in `order`: whose name or e-mail holds the search (on
    PostgreSQL, a search of the trigram indexes on full_name and email_key, the lower-cased
    e-mail), after the cursor's key and id, or `skip` rows in."""
    column, _kind = SORT_COLUMNS[order]
    query = _students_query(role).order_by(column, User.id).limit(bindparam("size"))
    if search:
        query = query.where(
            or_(
                User.full_name.ilike(bindparam("pattern", type_=String), escape="\\"),
                User.email_key.like(bindparam("lower_pattern", type_=String), escape="\\"),
            )
        )
    if after:
        after_key = bindparam("after_key", type_=column.type)
        query = query.where(tuple_(column, User.id) > tuple_(after_key, bindparam("after_id")))
    if skip:
        query = query.offset(bindparam("skip"))
    return query


@functools.cache
def _student(role: str) -> Select[Any]:
    return _students_query(role).where(User.id == bindparam("user_id"))


def _pattern(q: str) -> str:
    """`q` anywhere in a LIKE pattern, its wildcards escaped."""
    if not all_storable(q):
        raise Invalid(f"q {UNSTORABLE_MESSAGE}")
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_students(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int = MAX_PAGE,
    offset: int = 0,
    cursor: str | None = None,
    q: str | None = None,
    order: StudentOrder = StudentOrder.NAME,
) -> tuple[list[StudentSummaryOut], str | None]:
    """A page of the institution's students in `order`, from `cursor` (or `offset`), with the
    cursor of the next page if there may be one."""
    column, kind = SORT_COLUMNS[order]
    values: dict[str, Any] = {**allowing_values(actor), "size": limit + 1}
    if q:
        pattern = _pattern(q)
        values |= {"pattern": pattern, "lower_pattern": pattern.lower()}
    if cursor is not None:
        values["after_key"], values["after_id"] = decode_cursor(cursor, order, (kind, int))
    elif offset:
        values["skip"] = offset
    query = _students_page(actor.role, order, bool(q), cursor is not None, "skip" in values)
    rows: Sequence[Any] = (await session.execute(query, values)).all()
    page = outputs(StudentSummaryOut, rows[:limit])
    if len(rows) <= limit:
        return page, None
    last = rows[limit - 1]
    return page, encode_cursor(order, (getattr(last, column.key), last.id))


async def student_detail(session: AsyncSession, actor: Actor, user_id: int) -> StudentDetailOut:
    values = {**allowing_values(actor), "user_id": user_id}
    row = (await session.execute(_student(actor.role), values)).first()
    if row is None:
        raise NotFound("No such student.")
    enrollments = await queries.my_enrollments(session, user_id)
    requests = await queries.my_requests(session, user_id)
    if not actor.is_admin:
        seen = set(
            await session.scalars(
                select(Course.id).where(courses_allowing(actor, CourseAction.SEE_LEARNERS))
            )
        )
        enrollments = [e for e in enrollments if e.course_id in seen]
        requests = [r for r in requests if r.course_id in seen]
    return StudentDetailOut.model_validate(
        {**row._mapping, "enrollments": enrollments, "access_requests": requests}
    )
