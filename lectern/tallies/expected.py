"""What each tally should say, counted from the rows: the audit compares these with the
tallies, and the rebuild writes them."""

from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, Select, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from lectern.models import AccessRequest, Course, Enrollment, Institution, User
from lectern.models.enums import EnrollmentStatus, RequestStatus, Role
from lectern.models.tallies import INSTITUTION_SHARDS

# The statuses a tally counts, each a column of course_tallies and learner_tallies.
COUNTED = ("active", "completed", "cancelled", "expired")
# The enrollments whose progress is summed and bucketed.
ENROLLED = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)
FIGURES = (*COUNTED, "progress_sum", "pending_requests")
# Any select, whatever its columns.
AnySelect = Select[*tuple[Any, ...]]


class progress_bucket(FunctionElement[int]):  # noqa: N801 (an SQL function)
    """The tenth of progress an enrollment is in, 0 to 9, and 10 for 100 % (below 10 it is 0
    without dividing: PostgreSQL refuses a quotient too small for a float)."""

    type = Integer()
    inherit_cache = True


@compiles(progress_bucket)
def _bucket(element: progress_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    progress = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"CASE WHEN {progress} >= 100 THEN 10 WHEN {progress} < 10 THEN 0"
        f" ELSE floor({progress} / 10)::integer END"
    )


@compiles(progress_bucket, "sqlite")
def _bucket_sqlite(element: progress_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    progress = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"CASE WHEN {progress} >= 100 THEN 10 WHEN {progress} < 10 THEN 0"
        f" ELSE CAST({progress} / 10 AS INTEGER) END"
    )


class utc_day(FunctionElement[Any]):  # noqa: N801 (an SQL function)
    """The calendar day (UTC) of a timestamp."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _day(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(next(iter(element.clauses)), **kw)}) AT TIME ZONE 'UTC')::date"


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(next(iter(element.clauses)), **kw)})"


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _figures_by(key: Any) -> Any:
    return (
        select(
            key.label("key"),
            *(_count_if(Enrollment.status == status).label(status) for status in COUNTED),
            func.sum(case((Enrollment.status.in_(ENROLLED), Enrollment.progress), else_=0.0)).label(
                "progress_sum"
            ),
        )
        .group_by(key)
        .subquery()
    )


def _pending_by(key: Any) -> Any:
    return (
        select(key.label("key"), func.count().label("pending"))
        .where(AccessRequest.status == RequestStatus.PENDING)
        .group_by(key)
        .subquery()
    )


def _tallies_of(parent: Any, enrollment_key: Any, request_key: Any, key_name: str) -> AnySelect:
    figures = _figures_by(enrollment_key)
    pending = _pending_by(request_key)
    return (
        select(
            parent.label(key_name),
            *(func.coalesce(figures.c[status], 0).label(status) for status in COUNTED),
            func.coalesce(figures.c.progress_sum, 0.0).cast(Float).label("progress_sum"),
            func.coalesce(pending.c.pending, 0).label("pending_requests"),
        )
        .outerjoin(figures, figures.c.key == parent)
        .outerjoin(pending, pending.c.key == parent)
    )


def course_tallies() -> AnySelect:
    """Every course's figures, from its enrollments and requests."""
    return _tallies_of(Course.id, Enrollment.course_id, AccessRequest.course_id, "course_id")


def learner_tallies() -> AnySelect:
    """Every user's figures, from their enrollments and requests."""
    return _tallies_of(User.id, Enrollment.user_id, AccessRequest.user_id, "user_id")


def progress_buckets() -> AnySelect:
    bucket = progress_bucket(Enrollment.progress)
    return (
        select(Enrollment.course_id, bucket.label("bucket"), func.count().label("enrollments"))
        .where(Enrollment.status.in_(ENROLLED))
        .group_by(Enrollment.course_id, bucket)
    )


def completion_days() -> AnySelect:
    day = utc_day(Enrollment.completed_at)
    return (
        select(Enrollment.course_id, day.label("day"), func.count().label("completions"))
        .where(
            Enrollment.status == EnrollmentStatus.COMPLETED, Enrollment.completed_at.is_not(None)
        )
        .group_by(Enrollment.course_id, day)
    )


def institution_tallies() -> AnySelect:
    """Each institution's students and users with an active enrollment, by shard."""
    shard = (User.id % INSTITUTION_SHARDS).label("shard")
    active = exists().where(
        Enrollment.user_id == User.id, Enrollment.status == EnrollmentStatus.ACTIVE
    )
    return (
        select(
            User.institution_id,
            shard,
            _count_if(User.role == Role.STUDENT).label("students"),
            _count_if(active).label("active_learners"),
        )
        .join(Institution, Institution.id == User.institution_id)
        .group_by(User.institution_id, shard)
    )
