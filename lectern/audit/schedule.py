"""The audit on a timer; with several processes on PostgreSQL only one runs it at a time.

It runs in a worker thread with an event loop and an engine of its own: the server's event
loop, and its connection pool, never wait on an audit however long it takes. Each run is
recorded (lectern.audit.runs) for every institution at once.
"""

import asyncio
import logging
from functools import partial

from sqlalchemy import text

from lectern.audit.runs import carry_out, start_run
from lectern.audit.service import Report
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.rounds import Rounds

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
        if not database.is_postgres:
            report = await _recorded_audit(database)
        else:
            async with database.engine.connect() as lock:
                key = {"key": AUDIT_LOCK_KEY}
                if not await lock.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
                    return False
                try:
                    report = await _recorded_audit(database)
                finally:
                    await lock.execute(text("SELECT pg_advisory_unlock(:key)"), key)
    finally:
        await database.dispose()
    for finding in report.findings:
        if finding.count:
            log.warning("consistency audit: %s violated by %d rows", finding.name, finding.count)
    return True


async def _recorded_audit(database: Database) -> Report:
    run = await database.run(lambda s: start_run(s, None))
    return await carry_out(database, run.id, None)


def audit_rounds(database: Database, interval_s: float) -> Rounds:
    """The audit every `interval_s` seconds (app lifespan: start it, then stop it)."""
    return Rounds(
        partial(audit_once, database),
        name="the scheduled consistency audit",
        pause=interval_s,
        first_after=interval_s,
    )
