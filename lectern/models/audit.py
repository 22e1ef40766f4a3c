from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, JSONDocument, UTCDateTime, one_of, utcnow


class AuditRunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class AuditRun(Base):
    """One run of the consistency audit, for one institution or (institution_id null) for all:
    how far it got, and what it found. Pages show the last one instead of auditing."""

    __tablename__ = "audit_runs"
    __table_args__ = (
        one_of("status", AuditRunStatus, "status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        Index("ix_audit_runs_institution_id_id", "institution_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default=AuditRunStatus.RUNNING)
    # The share of the invariants checked so far, 0 to 1.
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    # Each invariant's finding: name, description, count, the first rows, repairable.
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
