from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, UTCDateTime, one_of, utcnow
from lectern.models.enums import CourseRole


class CourseStaff(Base):
    """A person's role in one course: instructor, teaching assistant or observer.

    One row per (course, user); lectern.staff.rules says what each role may do."""

    __tablename__ = "course_staff"
    __table_args__ = (one_of("role", CourseRole, "role"),)

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
