from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, BigId, UTCDateTime, one_of, utcnow


class DestinationStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # failed too many times in a row; an admin resumes it


class DeliveryStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"


class OutboundDestination(Base):
    """An outside system that receives the event log of one institution (a webhook endpoint, a
    learning record store), with its cursor: every event up to `delivered_through` was sent or
    was not for it. lectern.outbound explains the delivery."""

    __tablename__ = "outbound_destinations"
    __table_args__ = (
        one_of("status", DestinationStatus, "status"),
        # The workers' claim: a kind's due destinations.
        Index("ix_outbound_destinations_due", "kind", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Which integration delivers to it (lectern.outbound.kinds.OutboundKind.name).
    kind: Mapped[str] = mapped_column(String(32))
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    delivered_through: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=DestinationStatus.ACTIVE)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboundDelivery(Base):
    """One attempt to send a destination the events `first_event_id`..`last_event_id`."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        one_of("status", DeliveryStatus, "status"),
        Index("ix_outbound_deliveries_destination_id_id", "destination_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("outbound_destinations.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The how-manyth attempt at these events, counting this one.
    attempt: Mapped[int] = mapped_column(Integer)
    response_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    events: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
