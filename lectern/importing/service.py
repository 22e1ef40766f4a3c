"""The import as a command: what the target holds, the plan, and writing it in one transaction."""

import asyncio
import threading
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.audit.service import run_audit
from lectern.events.service import record_event
from lectern.events.types import LegacyImported
from lectern.importing.links import known_links
from lectern.importing.plan import Known, KnownUser, Legacy, Plan, Ref, cycle_collection_paused
from lectern.importing.planning import plan_import
from lectern.importing.report import Report
from lectern.importing.rows import Resolver
from lectern.importing.writer import PlanWriter
from lectern.models import (
    Course,
    Enrollment,
    Institution,
    InstitutionMerge,
    LegacyImport,
    Payment,
    User,
)
from lectern.models.base import utcnow
from lectern.platform.db import Database
from lectern.platform.migrate import alembic_config
from lectern.progress.service import lock_enrollments, recompute_progress


class TargetNotReady(Exception):
    """Lectern's database cannot take the import: said in one line."""


class PlanningStopped(Exception):
    """Writing the plan failed: the rest of it is not needed."""


async def check_target(database: Database) -> None:
    """The target is reachable and migrated to the latest revision."""
    head = ScriptDirectory.from_config(alembic_config(database.settings.database_url))
    try:
        async with database.session() as session:
            current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError as error:
        raise TargetNotReady(
            "Lectern's database is not migrated (run `lectern migrate`) or unreachable"
        ) from error
    if current != head.get_current_head():
        raise TargetNotReady(
            f"Lectern's database is at migration {current}, not the latest: run `lectern migrate`"
        )


async def known_state(session: AsyncSession) -> Known:
    """What the target already holds that the import must recognise."""
    known = Known()
    known.legacy_ids = await known_links(session)
    for id_, name, key, slug in await session.execute(
        select(Institution.id, Institution.name, Institution.name_key, Institution.slug)
    ):
        known.institutions[key] = id_
        known.institution_names[id_] = name
        known.institution_slugs.add(slug)
    for key, slug, into in await session.execute(
        select(InstitutionMerge.name_key, InstitutionMerge.slug, InstitutionMerge.into_id)
    ):
        known.institutions.setdefault(key, into)
        known.institution_slugs.add(slug)
    for id_, key, institution_id, name in await session.execute(
        select(User.id, User.email_key, User.institution_id, User.full_name)
    ):
        known.users[key] = KnownUser(id_, institution_id, name)
        known.user_names[id_] = name
    for institution_id, slug in await session.execute(select(Course.institution_id, Course.slug)):
        known.course_slugs.setdefault(institution_id, set()).add(slug)
    for id_, user_id, course_id, status in await session.execute(
        select(Enrollment.id, Enrollment.user_id, Enrollment.course_id, Enrollment.status)
    ):
        known.enrollments[(user_id, course_id)] = (id_, status)
    for id_, checkout in await session.execute(
        select(Payment.id, Payment.checkout_id).where(
            Payment.provider == "stripe", Payment.checkout_id.is_not(None)
        )
    ):
        if checkout is not None:
            known.payments[checkout] = id_
    return known


@dataclass
class Outcome:
    plan: Plan
    import_id: int | None = None
    resolve: Resolver | None = None


async def import_legacy(session: AsyncSession, legacy: Legacy, source: str) -> Outcome:
    """Plan the import against what the target holds and write it, in the caller's
    transaction; recompute what it touched, and record the import and its events. Imports
    take turns, so that each plans against what the one before wrote: on PostgreSQL by a lock
    on the links held until commit, on SQLite by the write of the import's record, which no
    other can make until it commits. A plan with nothing new leaves nothing behind."""
    record = LegacyImport(source=source, report={}, created_at=utcnow())
    session.add(record)
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("LOCK TABLE legacy_links IN SHARE ROW EXCLUSIVE MODE"))
    known = await known_state(session)
    with cycle_collection_paused(), closing(PlanWriter(session, record.id)) as writer:
        plan = await _planned_and_written(legacy, known, writer)
        resolve = await writer.finish(plan)
    if plan.takes_in_nothing():
        await session.delete(record)
        await session.flush()
        return Outcome(plan)
    if plan.recompute:
        await recompute_progress(session, await lock_enrollments(session, plan.recompute))
    outcome = Outcome(plan, record.id, resolve)
    record.report = report_json(outcome, source, applied=True)
    for part in record.report["institutions"]:
        if part["id"] is None:
            continue
        record_event(
            session,
            LegacyImported(import_id=record.id, source=source, decisions=part["decisions"],
                           created=part["created"]),
            institution_id=part["id"],
        )  # fmt: skip
    await session.flush()
    return outcome


async def _planned_and_written(legacy: Legacy, known: Known, writer: PlanWriter) -> Plan:
    """The plan, made in a thread; each group of tables it finishes is written meanwhile, so
    that the server loads them while the later stages plan. The caller pauses the cycle
    collector, for both threads."""
    loop = asyncio.get_running_loop()
    final: asyncio.Queue[tuple[Plan, tuple[str, ...]] | None] = asyncio.Queue()
    stopped = threading.Event()

    def tables_final(plan: Plan, tables: tuple[str, ...]) -> None:
        if stopped.is_set():
            raise PlanningStopped()
        loop.call_soon_threadsafe(final.put_nowait, (plan, tables))

    def planned() -> Plan:
        try:
            return plan_import(legacy, known, utcnow(), tables_final)
        finally:
            loop.call_soon_threadsafe(final.put_nowait, None)

    planning = asyncio.ensure_future(asyncio.to_thread(planned))
    try:
        while (told := await final.get()) is not None:
            await writer.write(*told)
    except BaseException:
        stopped.set()
        await asyncio.gather(planning, return_exceptions=True)
        raise
    return await planning


def report_json(outcome: Outcome, source: str, *, applied: bool) -> dict[str, Any]:
    """The report as JSON, with each institution's part under its Lectern id once written."""
    plan, report = outcome.plan, outcome.plan.report
    names = {row["key"]: row["name"] for row in plan.rows.get("institutions", [])}
    parts = []
    for ref in sorted(_institutions(report), key=str):
        id_ = outcome.resolve("institutions", ref) if outcome.resolve else None
        parts.append({
            "id": ref if isinstance(ref, int) else id_,
            "name": names.get(ref, "") if isinstance(ref, str) else plan.known_names.get(ref, ""),
            "decisions": dict(sorted(report.by_institution.get(ref, {}).items())),
            "created": dict(sorted(report.created_by_institution.get(ref, {}).items())),
        })  # fmt: skip
    return {
        "source": {"url": source},
        "applied": applied,
        "import_id": outcome.import_id,
        **report.as_json(),
        "sums_hold": report.sums_hold(),
        "institutions": parts,
    }


def _institutions(report: Report) -> set[Ref]:
    refs = set(report.by_institution) | set(report.created_by_institution)
    return {ref for ref in refs if isinstance(ref, (int, str)) and ref not in {"unknown", "all"}}


async def run_import(
    database: Database, legacy: Legacy, source: str, *, apply: bool
) -> dict[str, Any]:
    """Plan the import against the target and, with `apply`, write it; the report, with the
    target's audit after it."""
    if apply:
        outcome = await database.run(lambda s: import_legacy(s, legacy, source))
    else:
        async with database.session() as session:
            known = await known_state(session)
        outcome = Outcome(plan_import(legacy, known, utcnow()))
    result = report_json(outcome, source, applied=apply)
    async with database.session() as session:
        audit = await run_audit(session)
    result["audit"] = {
        "violations": sum(f.count for f in audit.findings),
        "by_invariant": {f.name: f.count for f in audit.findings if f.count},
    }
    return result
