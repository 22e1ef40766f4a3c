"""Ending PostgreSQL's server processes, as a restart or a failover would."""

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

_KILL_ALL = """
    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


@contextlib.asynccontextmanager
async def admin_connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own, outside every pool, that survives the kills it makes."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


async def kill_every_backend(admin: asyncpg.Connection) -> int:
    killed: int = await admin.fetchval(_KILL_ALL)
    return killed
