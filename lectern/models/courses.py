from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lectern.models.base import Base, JSONDocument, UTCDateTime, one_of, utcnow
from lectern.models.enums import CourseAccess, CourseStatus, LessonKind


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("institution_id", "slug"),
        one_of("status", CourseStatus, "status"),
        one_of("access", CourseAccess, "access"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("qbank_pass_mark >= 0 AND qbank_pass_mark <= 1", name="qbank_pass_mark"),
        CheckConstraint("seat_limit >= 0", name="seat_limit_not_negative"),
        # A paid course's seats are bought: it keeps no waitlist (migration 0020).
        CheckConstraint("NOT (access = 'paid' AND waitlist)", name="paid_without_waitlist"),
        CheckConstraint("access_days > 0", name="access_days_positive"),
        CheckConstraint(
            "enrollment_closes_at IS NULL OR enrollment_opens_at IS NULL"
            " OR enrollment_opens_at < enrollment_closes_at",
            name="enrollment_window",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT)
    access: Mapped[str] = mapped_column(String(16), default=CourseAccess.APPROVAL)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    # A course may require a finished Q-bank test at or above this mark to complete.
    qbank_required: Mapped[bool] = mapped_column(Boolean, default=False)
    qbank_pass_mark: Mapped[float] = mapped_column(Float, default=0.7)
    # The course's image in the media directory (lectern.courses.images), if it has one.
    image: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Learners may join on their own (self, request, checkout) only inside this window.
    enrollment_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enrollment_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # How long a self-enrollment, approved request or purchase lasts; null: for good.
    access_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Active and completed enrollments may not outnumber it (null: no limit); see
    # lectern.enrollments.seats.
    seat_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    waitlist: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    chapters: Mapped[list["Chapter"]] = relationship(
        back_populates="course",
        lazy="raise",
        order_by="Chapter.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Chapter(Base):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    course: Mapped[Course] = relationship(back_populates="chapters", lazy="raise")
    lessons: Mapped[list["Lesson"]] = relationship(
        back_populates="chapter",
        lazy="raise",
        order_by="Lesson.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (
        one_of("kind", LessonKind, "kind"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 1", name="pass_mark"),
        CheckConstraint("duration_s >= 0", name="duration_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chapter_id: Mapped[int] = mapped_column(
        ForeignKey("chapters.id", ondelete="CASCADE"), index=True
    )
    # Denormalized from the chapter so progress can be computed per course in one query.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    video_url: Mapped[str] = mapped_column(String(2000), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    pass_mark: Mapped[float] = mapped_column(Float, default=0.7)
    # Quiz questions as authored: [{prompt, choices: [str], answer: int}].
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)

    chapter: Mapped[Chapter] = relationship(back_populates="lessons", lazy="raise")
