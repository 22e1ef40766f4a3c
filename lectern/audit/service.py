"""Running the audit and repairing what it finds by re-applying the commands' own logic."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.audit.aggregates import TALLY_INVARIANTS
from lectern.audit.invariants import INVARIANTS, Invariant, violations
from lectern.certificates.service import certificate_payload, issue_certificate
from lectern.enrollments.expiry import expire_enrollment
from lectern.enrollments.pair import WhenFull, close_pending_request, enroll, lock_pair
from lectern.events.service import record_event
from lectern.events.types import AuditRepaired, CertificateIssued
from lectern.models import (
    Course,
    Enrollment,
    QbankQuestion,
    QbankTest,
    QbankTestQuestion,
    StudentProfile,
    User,
)
from lectern.models.base import utcnow
from lectern.models.enums import (
    EnrollmentSource,
    QbankTestStatus,
    RequestStatus,
)
from lectern.platform.db import Database
from lectern.progress.service import lock_enrollments, recompute_progress

# Invariants checked at once by `audit_in_parallel`, each on a connection of its own.
AUDIT_CONNECTIONS = 4
# Memory each of the audit's sorts and hashes may take on PostgreSQL before spilling to disk:
# grouping a million enrollments' facts by enrollment fits in it.
AUDIT_WORK_MEM = "128MB"
# Re-applies a command's logic to one violating row.
Repair = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


@dataclass
class Finding:
    name: str
    description: str
    count: int
    rows: list[dict[str, Any]]
    repairable: bool
    repaired: int = 0


@dataclass
class Report:
    checked_at: datetime
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(finding.count == 0 for finding in self.findings)


async def run_audit(session: AsyncSession, institution_id: int | None = None) -> Report:
    """Every invariant's violations, for one institution or for all, one after the other in
    the session's transaction."""
    report = Report(checked_at=utcnow())
    for invariant in INVARIANTS:
        count, rows = await violations(session, invariant, institution_id)
        report.findings.append(
            Finding(invariant.name, invariant.description, count, rows, invariant.repairable)
        )
    return report


async def check_invariant(
    database: Database, invariant: Invariant, institution_id: int | None
) -> Finding:
    """One invariant's violations, on a read session of its own."""
    async with database.session() as session:
        if database.is_postgres:
            await session.execute(text(f"SET LOCAL work_mem = '{AUDIT_WORK_MEM}'"))
            # Compiling a scan of millions of rows costs seconds and saves less.
            await session.execute(text("SET LOCAL jit = off"))
        count, rows = await violations(session, invariant, institution_id)
    return Finding(invariant.name, invariant.description, count, rows, invariant.repairable)


async def audit_in_parallel(
    database: Database,
    institution_id: int | None = None,
    *,
    on_checked: Callable[[int], Awaitable[None]] | None = None,
) -> Report:
    """Every invariant's violations, each checked on a connection of its own, up to
    AUDIT_CONNECTIONS at once on PostgreSQL (one at a time on SQLite), the heaviest first;
    `on_checked` hears how many are done after each one, in turn. The findings keep the
    invariants' order."""
    gate = asyncio.Semaphore(AUDIT_CONNECTIONS if database.is_postgres else 1)
    in_turn = asyncio.Lock()
    done = 0

    async def check(invariant: Invariant) -> Finding:
        nonlocal done
        async with gate:
            finding = await check_invariant(database, invariant, institution_id)
        async with in_turn:
            done += 1
            if on_checked is not None:
                await on_checked(done)
        return finding

    checked_at = utcnow()
    heaviest_first = sorted(INVARIANTS, key=lambda invariant: not invariant.heavy)
    found = dict(
        zip(
            (invariant.name for invariant in heaviest_first),
            await asyncio.gather(*map(check, heaviest_first)),
            strict=True,
        )
    )
    return Report(checked_at=checked_at, findings=[found[i.name] for i in INVARIANTS])


async def repair(
    session: AsyncSession, institution_id: int | None = None, *, apply: bool = False
) -> Report:
    """Audit, and when `apply` is set repair each violation; running it again finds nothing."""
    report = await run_audit(session, institution_id)
    if not apply:
        return report
    for invariant, finding in zip(INVARIANTS, report.findings, strict=True):
        if finding.count == 0 or not invariant.repairable:
            continue
        _, rows = await violations(session, invariant, institution_id, limit=1_000_000)
        for row in rows:
            await REPAIRS[invariant.name](session, row)
            await _record_repair(session, invariant, row)
            finding.repaired += 1
    return report


async def _record_repair(session: AsyncSession, invariant: Invariant, row: dict[str, Any]) -> None:
    institution_id = await _institution_of(session, row)
    record_event(
        session,
        AuditRepaired(invariant=invariant.name, row={k: str(v) for k, v in row.items()}),
        institution_id=institution_id,
    )


async def _institution_of(session: AsyncSession, row: dict[str, Any]) -> int:
    if "institution_id" in row:
        return int(row["institution_id"])
    if "course_id" in row:
        course = await session.get_one(Course, row["course_id"])
        return course.institution_id
    user = await session.get_one(User, row["id"])
    return user.institution_id


async def _close_pending(session: AsyncSession, row: dict[str, Any]) -> None:
    course = await session.get_one(Course, row["course_id"])
    await lock_pair(session, row["user_id"], course.id)
    await close_pending_request(
        session,
        row["user_id"],
        course,
        RequestStatus.APPROVED,
        None,
        "Closed by the consistency audit: already enrolled.",
    )


def _enroll_as(source: EnrollmentSource) -> Repair:
    async def repair_row(session: AsyncSession, row: dict[str, Any]) -> None:
        course = await session.get_one(Course, row["course_id"])
        await enroll(
            session,
            user_id=row["user_id"],
            course=course,
            source=source,
            when_full=WhenFull.OVERRIDE,
        )

    return repair_row


async def _expire(session: AsyncSession, row: dict[str, Any]) -> None:
    course = await session.get_one(Course, row["course_id"])
    await expire_enrollment(session, row["id"], row["user_id"], course, utcnow())


async def _add_profile(session: AsyncSession, row: dict[str, Any]) -> None:
    session.add(StudentProfile(user_id=row["id"]))
    await session.flush()


async def _recount_qbank(session: AsyncSession, row: dict[str, Any]) -> None:
    answered = and_(
        QbankTestQuestion.question_id == row["id"],
        QbankTest.id == QbankTestQuestion.test_id,
        QbankTest.status == QbankTestStatus.COMPLETED,
    )
    attempts = await session.scalar(
        select(func.count()).select_from(QbankTestQuestion).join(QbankTest).where(answered)
    )
    correct = await session.scalar(
        select(func.count())
        .select_from(QbankTestQuestion)
        .join(QbankTest)
        .where(answered, QbankTestQuestion.is_correct.is_(True))
    )
    await session.execute(
        update(QbankQuestion)
        .where(QbankQuestion.id == row["id"])
        .values(attempts=attempts or 0, correct=correct or 0)
    )


async def _recompute(session: AsyncSession, row: dict[str, Any]) -> None:
    await recompute_progress(session, await lock_enrollments(session, [row["id"]]))


async def _certify(session: AsyncSession, row: dict[str, Any]) -> None:
    enrollment = await session.get_one(Enrollment, row["id"])
    course = await session.get_one(Course, row["course_id"])
    certificate = await issue_certificate(session, enrollment, course)
    if certificate is not None:
        record_event(
            session,
            CertificateIssued(**certificate_payload(certificate)),
            institution_id=course.institution_id,
            user_id=enrollment.user_id,
        )


REPAIRS: dict[str, Repair] = {
    "stale_progress": _recompute,
    "completed_without_certificate": _certify,
    "pending_requests_beside_enrollments": _close_pending,
    "approved_requests_without_enrollment": _enroll_as(EnrollmentSource.REQUEST),
    "paid_without_enrollment": _enroll_as(EnrollmentSource.PAYMENT),
    "active_past_their_end": _expire,
    "students_without_profile": _add_profile,
    "qbank_statistics_off": _recount_qbank,
    **{name: recount for name, _, _, recount in TALLY_INVARIANTS},
}
