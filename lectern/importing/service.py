"""The import as a command: what the target holds, the plan, and writing it in one transaction."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.audit.service import run_audit
from lectern.events.service import record_event
from lectern.events.types import LegacyImported
from lectern.importing.bulk import dropped_for_load
from lectern.importing.links import known_links, taken_in_since
from lectern.importing.plan import Known, KnownUser, Legacy, Plan, Ref
from lectern.importing.planning import plan_import
from lectern.importing.report import Report
from lectern.importing.rows import REFERENCES, Resolver
from lectern.importing.writer import write_plan
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
from lectern.tallies.rebuild import recounted_after_bulk_load

# Rows above which a plan is written as a bulk load.
BULK_ROWS = 10_000


class TargetNotReady(Exception):
    """Lectern's database cannot take the import: said in one line."""


class TakenInMeanwhile(TargetNotReady):
    """An import applied after this plan was made took in some of its legacy rows."""

    def __init__(self) -> None:
        super().__init__(
            "Another import took in some of these legacy rows while this one was planned:"
            " run it again"
        )


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
    known.legacy_ids, known.links_through = await known_links(session)
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


async def apply_import(session: AsyncSession, plan: Plan, source: str) -> Outcome:
    """Write the plan, recompute what it touched, and record the import and its events; a plan
    with nothing new writes nothing."""
    if not plan.links and not any(plan.rows.values()):
        return Outcome(plan)
    record = LegacyImport(source=source, report={}, created_at=utcnow())
    session.add(record)
    await session.flush()
    if await taken_in_since(session, plan):
        raise TakenInMeanwhile()
    async with _bulk_load(session, plan) as rebuild:
        resolve = await write_plan(session, plan, record.id, rebuild)
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


@asynccontextmanager
async def _bulk_load(session: AsyncSession, plan: Plan) -> AsyncIterator[dict[str, list[str]]]:
    """A large plan loaded on PostgreSQL as its documentation advises for populating a
    database: foreign keys checked once per table after its load, secondary indexes built after
    it where the load outgrows the table, and the tallies counted once from the rows, instead
    of a check, index entries and a trigger per row; per table, the statements that put back
    what was dropped. The written tables stay locked until the import commits. A small plan (a
    cut-over's new rows) is written as commands do."""
    rows = sum(len(rows) for rows in plan.rows.values())
    if rows < BULK_ROWS or session.get_bind().dialect.name != "postgresql":
        yield {}
        return
    connection = await session.connection()
    loads = {name: len(plan.rows.get(name, ())) for name in REFERENCES}
    rebuild = await dropped_for_load(connection, loads)
    async with recounted_after_bulk_load(connection):
        yield rebuild


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
    async with database.session() as session:
        known = await known_state(session)
    plan = plan_import(legacy, known, utcnow())
    if apply:
        outcome = await database.run(lambda s: apply_import(s, plan, source))
    else:
        outcome = Outcome(plan)
    result = report_json(outcome, source, applied=apply)
    async with database.session() as session:
        audit = await run_audit(session)
    result["audit"] = {
        "violations": sum(f.count for f in audit.findings),
        "by_invariant": {f.name: f.count for f in audit.findings if f.count},
    }
    return result
