"""The scheduled audit runs beside the server, never on its event loop, and once at a time."""

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from lectern.audit import schedule
from lectern.audit.service import Report
from lectern.models.base import utcnow
from lectern.platform.db import Database


async def test_the_scheduled_audit_leaves_the_servers_event_loop_free(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran_on: list[int] = []

    async def audit_that_holds_its_loop(_database: Any, _run_id: int, _scope: Any) -> Report:
        ran_on.append(threading.get_ident())
        time.sleep(0.3)  # noqa: ASYNC251 - the blocking audit this test is about
        return Report(checked_at=utcnow())

    monkeypatch.setattr(schedule, "carry_out", audit_that_holds_its_loop)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        assert await schedule.audit_once(db) is True
    finally:
        ticker.cancel()

    assert ran_on
    assert ran_on[0] != threading.get_ident()
    assert ticks >= 10  # the loop went on ticking through the audit's 0.3 s


@pytest.mark.postgres_only
async def test_the_scheduled_audit_is_skipped_while_another_process_runs_it(
    db: Database,
) -> None:
    async with db.engine.connect() as other_process:
        await other_process.execute(
            text("SELECT pg_advisory_lock(:key)"), {"key": schedule.AUDIT_LOCK_KEY}
        )
        try:
            assert await schedule.audit_once(db) is False
        finally:
            await other_process.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": schedule.AUDIT_LOCK_KEY}
            )
    assert await schedule.audit_once(db) is True
