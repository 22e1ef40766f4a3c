from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, UTCDateTime, one_of, utcnow
from lectern.models.enums import EnrollmentSource


class WaitlistEntry(Base):
    """A learner waiting for a seat in a full course; the lowest id is served first."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id"),
        one_of("source", EnrollmentSource, "source"),
        Index("ix_waitlist_entries_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The way in the learner asked for, which their enrollment gets when a seat frees.
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
