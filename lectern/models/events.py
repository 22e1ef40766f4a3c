from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from lectern.models.base import Base, BigId, JSONDocument, UTCDateTime, one_of, utcnow
from lectern.models.enums import Audience


class current_xact_id(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it is
    """The inserting transaction's id (PostgreSQL); 0 on SQLite, whose writers take turns."""

    type = BigInteger()
    inherit_cache = True


class xact_horizon(FunctionElement[int]):  # noqa: N801
    """Every transaction with a lower id has ended, as of this statement's snapshot."""

    type = BigInteger()
    inherit_cache = True


@compiles(current_xact_id)
def _current_xact_id_anywhere(_element: current_xact_id, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "0"


@compiles(current_xact_id, "postgresql")
def _current_xact_id_pg(_element: current_xact_id, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "pg_current_xact_id()::text::bigint"


@compiles(xact_horizon)
def _xact_horizon_anywhere(_element: xact_horizon, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "9223372036854775807"


@compiles(xact_horizon, "postgresql")
def _xact_horizon_pg(_element: xact_horizon, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


class Event(Base):
    """One fact that changed, appended in the transaction that changed it.

    The log is the audit trail and the feed of notifications and live pages; it has no
    foreign keys so that it outlives the rows it describes. Readers follow it in
    `(xact_id, id)` order; lectern.events.pump explains why.
    """

    __tablename__ = "events"
    __table_args__ = (
        one_of("audience", Audience, "audience"),
        Index("ix_events_institution_id_id", "institution_id", "id"),
        Index("ix_events_user_id_id", "user_id", "id"),
        Index("ix_events_xact_id_id", "xact_id", "id"),
        # Ids are never reused, even after the newest rows are deleted.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    institution_id: Mapped[int] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(nullable=True)
    audience: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    xact_id: Mapped[int] = mapped_column(BigInteger, default=current_xact_id())


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
