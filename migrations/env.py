"""Alembic environment: one chain for SQLite and PostgreSQL, run through the async engine."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from lectern.models import Base
from lectern.models.base import UTCDateTime
from lectern.platform.config import get_settings
from lectern.platform.db import make_engine

target_metadata = Base.metadata


def _url() -> str:
    return context.config.attributes.get("database_url") or get_settings().database_url


def _render_item(type_: str, obj: object, autogen_context: Any) -> str | bool:
    """Migrations name plain SQLAlchemy types, never the project's own decorators."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a SQLite table by copying it and dropping the original;
        # with foreign keys enforced, the drop would delete every row that refers to it.
        # SQLite ignores this pragma inside a transaction, so it is set before one begins.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        # The tally triggers (0010) name other tables in their bodies; renaming the rebuilt copy
        # back would otherwise fail on them while the original is gone.
        connection.exec_driver_sql("PRAGMA legacy_alter_table=ON")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.exec_driver_sql("PRAGMA legacy_alter_table=OFF")
        connection.commit()
        if broken:
            raise RuntimeError(f"rows refer to rows that do not exist: {broken[:10]}")


async def _run_online() -> None:
    engine = make_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_online())
