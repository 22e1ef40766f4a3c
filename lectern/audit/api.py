from datetime import datetime
from typing import Any, Literal

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.audit import runs, service
from lectern.audit.service import Report
from lectern.models.audit import AuditRun
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import NotFound
from lectern.platform.routes import api_router
from lectern.platform.schemas import Input, Output

router = api_router(prefix="/api/v1/admin/consistency", tags=["admin"])
Scope = Literal["institution", "all"]


def scope_of(run: AuditRun) -> Scope:
    return "all" if run.institution_id is None else "institution"


class FindingOut(Output):
    name: str
    description: str
    count: int
    rows: list[dict[str, Any]]
    repairable: bool
    repaired: int


class ReportOut(Output):
    ok: bool
    checked_at: datetime
    dry_run: bool = True
    findings: list[FindingOut]
    # The recorded run the report comes from; none for a repair's own audit.
    run_id: int | None = None
    started_at: datetime | None = None
    # "all": the scheduled audit of every institution, shown to each when it found nothing.
    scope: Scope = "institution"


class RepairIn(Input):
    dry_run: bool = True


def _out(report: Report, *, dry_run: bool = True) -> ReportOut:
    return ReportOut(
        ok=report.ok,
        checked_at=report.checked_at,
        dry_run=dry_run,
        findings=[FindingOut.model_validate(f, from_attributes=True) for f in report.findings],
    )


@router.get(
    "",
    response_model=ReportOut,
    responses={404: {"description": "No audit of the institution has finished yet."}},
)
async def consistency(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> ReportOut:
    """The institution's last finished audit, with its time: each invariant and the rows that
    violated it (or the scheduled audit of every institution, if newer and clean). Reading it
    never audits; POST /api/v1/admin/consistency/runs starts a fresh audit as background
    work."""
    run = await runs.latest_finished_run(session, actor.institution_id)
    if run is None or run.finished_at is None:
        raise NotFound(
            "No audit has finished for this institution yet; "
            "POST /api/v1/admin/consistency/runs starts one."
        )
    return ReportOut(
        ok=bool(run.ok),
        checked_at=run.finished_at,
        findings=[FindingOut.model_validate(finding) for finding in run.findings],
        run_id=run.id,
        started_at=run.started_at,
        scope=scope_of(run),
    )


@router.post("/repair", response_model=ReportOut)
async def repair(
    body: RepairIn | None = None,
    actor: Actor = Depends(admin_actor),
    db: Database = Depends(get_database),
) -> ReportOut:
    """Repair the admin's institution; a dry run (the default) only reports."""
    dry_run = body.dry_run if body else True
    report = await db.run(lambda s: service.repair(s, actor.institution_id, apply=not dry_run))
    return _out(report, dry_run=dry_run)


class RunOut(Output):
    id: int
    status: str
    progress: float
    ok: bool | None
    started_at: datetime
    finished_at: datetime | None
    findings: list[FindingOut]
    scope: Scope = "institution"

    @classmethod
    def of(cls, run: AuditRun) -> "RunOut":
        return cls.model_validate(run).model_copy(update={"scope": scope_of(run)})


@router.post("/runs", response_model=RunOut, status_code=202)
async def start_audit_run(
    actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> RunOut:
    """Start a fresh audit of the admin's institution as background work; it shows its progress
    live (`audit.progressed`) and at GET /api/v1/admin/consistency/runs/latest. While one is
    still running, asking again answers that one rather than starting audits side by side."""
    async with db.session() as session:
        running = await runs.running_run(session, actor.institution_id)
    if running is not None:
        return RunOut.of(running)
    run = await db.run(lambda s: runs.start_run(s, actor.institution_id))
    runs.run_in_background(db, run.id, actor.institution_id)
    return RunOut.of(run)


@router.get("/runs/latest", response_model=RunOut)
async def latest_audit_run(
    actor: Actor = Depends(admin_actor), session: AsyncSession = Depends(read_session)
) -> RunOut:
    """The institution's last audit run, running or done, with its time and findings."""
    run = await runs.latest_run(session, actor.institution_id)
    if run is None:
        raise NotFound("No audit has run for this institution yet.")
    return RunOut.of(run)
