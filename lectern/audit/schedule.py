"""The audit on a timer; with several processes on PostgreSQL only one runs it at a time.

It runs in a worker thread with an event loop and an engine of its own: the server's event
loop, and its connection pool, never wait on an audit however long it takes.
"""

import asyncio
import logging

from sqlalchemy import text

from lectern.audit.service import run_audit
from lectern.platform.config import Settings
from lectern.platform.db import Database

log = logging.getLogger(__name__)
AUDIT_LOCK_KEY = 0x1EC7E2A0D17  # one bigint advisory-lock key for the whole cluster


async def audit_once(database: Database) -> bool:
    """Run the audit off the event loop unless another process is running it; False if
    skipped."""
    return await asyncio.to_thread(_audit_in_own_loop, database.settings)


def _audit_in_own_loop(settings: Settings) -> bool:
    return asyncio.run(_audit_with_own_engine(settings))


async def _audit_with_own_engine(settings: Settings) -> bool:
    database = Database(settings)
    try:
        async with database.session() as session:
            if database.is_postgres:
                got_lock = await session.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY}
                )
                if not got_lock:
                    return False
            report = await run_audit(session)
    finally:
        await database.dispose()
    for finding in report.findings:
        if finding.count:
            log.warning("consistency audit: %s violated by %d rows", finding.name, finding.count)
    return True


async def audit_forever(database: Database, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await audit_once(database)
        except Exception:
            log.exception("scheduled consistency audit failed")
