from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, UTCDateTime, one_of, utcnow
from lectern.models.enums import EnrollmentSource, EnrollmentStatus, RequestStatus


class Enrollment(Base):
    """The one place that says a learner is enrolled in a course."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        one_of("status", EnrollmentStatus, "status"),
        one_of("source", EnrollmentSource, "source"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        Index("ix_enrollments_course_id_status", "course_id", "status"),
        Index("ix_enrollments_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=EnrollmentStatus.ACTIVE)
    source: Mapped[str] = mapped_column(String(16))
    # A projection of the learning facts, recomputed in the transaction that changes one.
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An active enrollment past this becomes expired (lectern.enrollments.expiry).
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the learner was told the end is near: they are told once.
    expiry_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AccessRequest(Base):
    """A learner's request for a course, kept as history whatever its outcome."""

    __tablename__ = "access_requests"
    __table_args__ = (
        one_of("status", RequestStatus, "status"),
        Index(
            "uq_access_requests_one_pending",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # Each course's requests of a status, newest first: the request queue reads it backwards.
        Index("ix_access_requests_course_id_status_id", "course_id", "status", "id"),
        Index("ix_access_requests_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING)
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
