from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, UTCDateTime, utcnow


class XapiDestination(Base):
    """An institution's learning record store. It is an outbound destination (same id), which
    holds its cursor over the event log and its delivery state (lectern.outbound)."""

    __tablename__ = "xapi_destinations"

    id: Mapped[int] = mapped_column(
        ForeignKey("outbound_destinations.id", ondelete="CASCADE"), primary_key=True
    )
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    # The LRS's xAPI base (…/xAPI): statements go to {endpoint}/statements.
    endpoint: Mapped[str] = mapped_column(String(2000))
    # HTTP Basic credentials the LRS gave Lectern; the secret is never shown again.
    key: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Statement ids are UUIDs in this namespace (lectern.xapi.statements): distinct per
    # destination and the same every time one event is sent.
    statement_namespace: Mapped[str] = mapped_column(String(36))
    # The homePage of learners' accounts and the base of activity ids, fixed at creation so
    # that a statement sent again is the same statement.
    activity_origin: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
