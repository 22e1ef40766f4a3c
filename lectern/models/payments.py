from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, JSONDocument, UTCDateTime, one_of, utcnow
from lectern.models.enums import PaymentStatus


class Payment(Base):
    """One attempt to buy a course, from checkout to completion or refund."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "checkout_id"),
        one_of("status", PaymentStatus, "status"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        # Repeating a checkout while one is pending returns that one instead of a second.
        Index(
            "uq_payments_one_pending",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # The admins' payments lists, newest first: of the institution, of a course.
        Index("ix_payments_institution_id_id", "institution_id", "id"),
        Index("ix_payments_course_id_id", "course_id", "id"),
        Index("ix_payments_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"))
    # Kept when the learner is deleted: money moved, and the books must still say so.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(32))
    # Set once the provider has created the checkout, after the row exists.
    checkout_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    checkout_url: Mapped[str] = mapped_column(String(2000), default="")
    # The provider's id of the money movement (Stripe: the PaymentIntent), known on completion.
    payment_ref: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING)
    flag_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookEvent(Base):
    """A provider's event, stored once by its id and processed in the same transaction.

    Like the event log it has no foreign keys: it records what the provider said, even about
    a payment that is unknown or gone.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    payment_id: Mapped[int | None] = mapped_column(nullable=True, index=True)
    # Lets a refund that arrived before its payment was known be found when the payment is.
    payment_ref: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
