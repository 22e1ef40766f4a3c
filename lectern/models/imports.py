from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, JSONDocument, UTCDateTime, utcnow


class LegacyImport(Base):
    """One applied `lectern import-legacy`: where from, and the report of what it decided."""

    __tablename__ = "legacy_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The source's URL without its password.
    source: Mapped[str] = mapped_column(String(500))
    report: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegacyId(Base):
    """A legacy row already taken in, and the Lectern row it became or was merged into; a
    second import recognises it here and takes in only what is new."""

    __tablename__ = "legacy_ids"

    legacy_table: Mapped[str] = mapped_column(String(40), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lectern_id: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("legacy_imports.id", ondelete="CASCADE"), index=True
    )
