from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, JSONDocument, UTCDateTime, utcnow


class WebhookSubscription(Base):
    """An HTTPS endpoint an admin subscribed to some event types of their institution. It is an
    outbound destination (same id), which holds its cursor and its delivery state."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(
        ForeignKey("outbound_destinations.id", ondelete="CASCADE"), primary_key=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # `whsec_` and base64 of 32 random bytes, as Standard Webhooks' libraries read it.
    secret: Mapped[str] = mapped_column(String(100))
    # The secret before the last rotation, which also signs until `previous_secret_until`, so
    # that receivers can switch without refusing a delivery meanwhile.
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
