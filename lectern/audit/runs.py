"""Recorded audit runs: started by an admin or by the schedule, carried out as background work
(on PostgreSQL off the server's event loop, with an engine of their own), their progress written
after each invariant and shown live on the admins' consistency page (`audit.progressed`)."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.audit.invariants import INVARIANTS
from lectern.audit.service import Finding, Report, audit_in_parallel
from lectern.events.service import record_event
from lectern.events.types import AuditProgressed
from lectern.models.audit import AuditRun, AuditRunStatus
from lectern.models.base import utcnow
from lectern.platform.config import Settings
from lectern.platform.db import Database

# Runs in flight in this process; a task nobody references may be collected before it ends.
_RUNNING: set["asyncio.Task[Report]"] = set()


STALE_AFTER = timedelta(hours=1)


async def start_run(session: AsyncSession, institution_id: int | None) -> AuditRun:
    """Record a new run (the edge commits it); `run_in_background` then carries it out."""
    run = AuditRun(
        institution_id=institution_id,
        status=AuditRunStatus.RUNNING,
        progress=0.0,
        findings=[],
        started_at=utcnow(),
    )
    session.add(run)
    await session.flush()
    return run


def _visible_to(institution_id: int | None) -> ColumnElement[bool]:
    """The runs an institution's admins see: their institution's, and a run of every
    institution that found nothing (the scheduled audit's), which tells them nothing of another
    institution. None: the runs of every institution."""
    if institution_id is None:
        return AuditRun.institution_id.is_(None)
    return or_(
        AuditRun.institution_id == institution_id,
        and_(AuditRun.institution_id.is_(None), AuditRun.ok.is_(True)),
    )


async def latest_run(session: AsyncSession, institution_id: int | None) -> AuditRun | None:
    return await session.scalar(
        select(AuditRun).where(_visible_to(institution_id)).order_by(AuditRun.id.desc()).limit(1)
    )


async def latest_finished_run(session: AsyncSession, institution_id: int) -> AuditRun | None:
    """The last run the institution's admins see that checked every invariant."""
    return await session.scalar(
        select(AuditRun)
        .where(_visible_to(institution_id), AuditRun.status == AuditRunStatus.FINISHED)
        .order_by(AuditRun.id.desc())
        .limit(1)
    )


async def running_run(session: AsyncSession, institution_id: int | None) -> AuditRun | None:
    """The institution's run still in progress, if one started within the last hour (an older
    one was left by a process that stopped, and no longer counts)."""
    run = await latest_run(session, institution_id)
    if run is None or run.status != AuditRunStatus.RUNNING:
        return None
    return run if utcnow() - run.started_at < STALE_AFTER else None


def _plain(value: Any) -> Any:
    """A finding's cell as JSON holds it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def finding_document(finding: Finding) -> dict[str, Any]:
    return {
        "name": finding.name,
        "description": finding.description,
        "count": finding.count,
        "rows": [{k: _plain(v) for k, v in row.items()} for row in finding.rows],
        "repairable": finding.repairable,
        "repaired": finding.repaired,
    }


async def _progressed(
    session: AsyncSession, run_id: int, institution_id: int | None, values: dict[str, Any]
) -> None:
    await session.execute(update(AuditRun).where(AuditRun.id == run_id).values(**values))
    if institution_id is not None:
        record_event(
            session,
            AuditProgressed(
                run_id=run_id,
                status=values.get("status", AuditRunStatus.RUNNING),
                progress=values["progress"],
                ok=values.get("ok"),
            ),
            institution_id=institution_id,
        )


def _writer(
    run_id: int, institution_id: int | None, values: dict[str, Any]
) -> Callable[[AsyncSession], Awaitable[None]]:
    return lambda session: _progressed(session, run_id, institution_id, values)


async def carry_out(database: Database, run_id: int, institution_id: int | None) -> Report:
    """Check the invariants (in parallel, lectern.audit.service.audit_in_parallel), writing the
    run's progress after each one and its findings at the end; a run that fails is recorded as
    failed."""
    total = len(INVARIANTS)

    async def progressed(done: int) -> None:
        if done < total:
            await database.run(_writer(run_id, institution_id, {"progress": done / total}))

    try:
        report = await audit_in_parallel(database, institution_id, on_checked=progressed)
        finished = {
            "progress": 1.0,
            "status": AuditRunStatus.FINISHED,
            "ok": report.ok,
            "findings": [finding_document(f) for f in report.findings],
            "finished_at": utcnow(),
        }
        await database.run(_writer(run_id, institution_id, finished))
    except Exception:
        failed = {"status": AuditRunStatus.FAILED, "finished_at": utcnow(), "progress": 1.0}
        await database.run(_writer(run_id, institution_id, failed))
        raise
    return report


async def _with_own_engine(settings: Settings, run_id: int, institution_id: int | None) -> Report:
    database = Database(settings)
    try:
        return await carry_out(database, run_id, institution_id)
    finally:
        await database.dispose()


def carry_out_in_own_loop(settings: Settings, run_id: int, institution_id: int | None) -> Report:
    """Carry out a run in the calling thread, on an event loop and an engine of its own."""
    return asyncio.run(_with_own_engine(settings, run_id, institution_id))


def run_in_background(database: Database, run_id: int, institution_id: int | None) -> None:
    """Carry out a recorded run as background work: on PostgreSQL in a worker thread, so the
    server's event loop goes on serving; on SQLite on the server's Database, whose writers take
    turns (an engine of the run's own would write beside them, each waiting out the other)."""
    if database.is_postgres:
        work = asyncio.to_thread(carry_out_in_own_loop, database.settings, run_id, institution_id)
    else:
        work = carry_out(database, run_id, institution_id)
    task: asyncio.Task[Report] = asyncio.create_task(work)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
