"""Counts that admin pages show, kept beside the rows they count.

Triggers in the database (migration 0007) write them in the transaction that changes an
enrollment, a request or a user, so no command can forget one; the audit compares each with its
rows and `lectern.tallies.rebuild` recounts them. Every table is keyed so that no one row is
written by every command of an institution: per course, per learner, and per institution in
shards of its users.
"""

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, text
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.accounts import User
from lectern.models.base import Base

# An institution's students and active learners are counted in this many rows, by user id.
INSTITUTION_SHARDS = 8


def _count() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


class EnrollmentFigures:
    """Enrollments by status, the progress of the active and completed ones summed (their
    average is progress_sum / (active + completed)), and pending requests."""

    active: Mapped[int] = _count()
    completed: Mapped[int] = _count()
    cancelled: Mapped[int] = _count()
    expired: Mapped[int] = _count()
    progress_sum: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    pending_requests: Mapped[int] = _count()


class CourseTally(EnrollmentFigures, Base):
    """One course's figures."""

    __tablename__ = "course_tallies"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class LearnerTally(EnrollmentFigures, Base):
    """One learner's figures."""

    __tablename__ = "learner_tallies"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class ProgressBucket(Base):
    """How many of a course's active and completed enrollments are in each tenth of progress
    (bucket 10 is 100 %)."""

    __tablename__ = "progress_buckets"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enrollments: Mapped[int] = _count()


class CompletionDay(Base):
    """How many of a course's completed enrollments were completed on a day (UTC)."""

    __tablename__ = "completion_days"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    completions: Mapped[int] = _count()


class InstitutionTally(Base):
    """An institution's students and learners with an active enrollment, in shards by user id;
    its figures are the sums over its shards."""

    __tablename__ = "institution_tallies"

    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    students: Mapped[int] = _count()
    active_learners: Mapped[int] = _count()


# The admin's students list pages through these in each order it offers, from the key of the
# last row shown.
Index("ix_users_students_by_name", User.institution_id, User.role, User.full_name, User.id)
Index("ix_users_students_by_email", User.institution_id, User.role, User.email_key, User.id)
Index("ix_users_students_by_created", User.institution_id, User.role, User.created_at, User.id)
# On PostgreSQL, trigram indexes find a part of a name or an e-mail (ILIKE and LIKE); SQLite
# searches the page's rows, and gets these as empty partial indexes that cost no write.
for _column in (User.full_name, User.email_key):
    Index(
        f"ix_users_{_column.key}_trigram",
        _column,
        postgresql_using="gin",
        postgresql_ops={_column.key: "gin_trgm_ops"},
        sqlite_where=text("0"),
    )
