from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, BigId, JSONDocument, UTCDateTime, one_of, utcnow
from lectern.models.enums import Audience


class Event(Base):
    """One fact that changed, appended in the transaction that changed it.

    The log is the audit trail and the feed of notifications and live pages; it has no
    foreign keys so that it outlives the rows it describes. Ids are delivered in order;
    lectern.live.pump explains how a late commit is never skipped.
    """

    __tablename__ = "events"
    __table_args__ = (
        one_of("audience", Audience, "audience"),
        Index("ix_events_institution_id_id", "institution_id", "id"),
        Index("ix_events_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    institution_id: Mapped[int] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(nullable=True)
    # The course it is about, if any: that course's staff see it (lectern.events.rules).
    course_id: Mapped[int | None] = mapped_column(nullable=True)
    audience: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
