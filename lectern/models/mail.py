from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, JSONDocument, UTCDateTime, one_of, utcnow


class MailKind(StrEnum):
    """What a message is about; learners choose per kind of the first four."""

    REQUEST_REVIEWED = "request_reviewed"
    ENROLLED = "enrolled"
    ENROLLMENT_EXPIRING = "enrollment_expiring"
    CERTIFICATE_ISSUED = "certificate_issued"
    DIGEST = "digest"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, not a password)
    EMAIL_CHANGE = "email_change"
    EMAIL_CHANGED = "email_changed"
    # To an institution's admins: an outbound destination (a webhook, an LRS) kept failing.
    INTEGRATION_PAUSED = "integration_paused"


class MailStatus(StrEnum):
    PENDING = "pending"  # to be sent when next_attempt_at comes
    HELD = "held"  # kept for the recipient's daily digest
    DIGESTED = "digested"  # went out inside a digest
    SENT = "sent"
    FAILED = "failed"  # refused too many times; given up


class MailChoice(StrEnum):
    IMMEDIATELY = "immediately"
    DAILY_DIGEST = "daily_digest"
    NONE = "none"


class OutboxMessage(Base):
    """An e-mail, written in the transaction that causes it and sent after commit."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        one_of("kind", MailKind, "kind"),
        one_of("status", MailStatus, "status"),
        # The worker's claim: the oldest due message.
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.PENDING)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str] = mapped_column(String(1000))
    # Set once when written: a message sent again after a crash is recognisably the same one.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailPreferences(Base):
    """A person's choice per kind of message, and the key their unsubscribe links are signed
    with (per person: a link stays valid across restarts and needs no server secret)."""

    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    signing_key: Mapped[str] = mapped_column(String(64))
    choices: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
