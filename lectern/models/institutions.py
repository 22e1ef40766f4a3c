from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lectern.models.base import Base, UTCDateTime, utcnow


class Institution(Base):
    __tablename__ = "institutions"
    # Merging deletes institutions; on SQLite too, a deleted one's id goes to no other.
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Case-folded, whitespace-collapsed name: 'ABC Academy' and ' abc  ACADEMY' are one institution.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstitutionMerge(Base):
    """A duplicate institution merged into another and deleted. Its name and slug still lead to
    the one it was merged into, so it is neither created again nor lost to old links."""

    __tablename__ = "institution_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    merged_id: Mapped[int] = mapped_column()  # the deleted institution's id
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    into_id: Mapped[int] = mapped_column(
        ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    merged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
