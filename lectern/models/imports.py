from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
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


class LegacyLinks(Base):
    """Legacy rows of one table that an import took in, and the Lectern rows they became or
    were merged into: the nth legacy id went to the nth Lectern id. A second import recognises
    them here and takes in only what is new. An import takes in up to millions of rows, read
    back only all at once, so they are kept as lists of up to `LINKS_PER_ROW`."""

    __tablename__ = "legacy_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("legacy_imports.id", ondelete="CASCADE"), index=True
    )
    legacy_table: Mapped[str] = mapped_column(String(40))
    legacy_ids: Mapped[list[str]] = mapped_column(JSON)
    lectern_ids: Mapped[list[int]] = mapped_column(JSON)


LINKS_PER_ROW = 100_000
