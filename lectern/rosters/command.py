"""`lectern enroll-csv`: a roster file from the command line, acting as one of the
institution's admins; a dry run unless asked to apply."""

import asyncio
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from lectern.institutions.service import institution_id_of
from lectern.mail.outbox import subscribe_mail
from lectern.models import User
from lectern.models.enums import Role
from lectern.platform.actor import Actor
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.errors import LecternError, NotFound
from lectern.rosters.rules import Outcome
from lectern.rosters.service import RosterReport, import_roster, plan_roster, row_report

# A larger file's rows are summed up, and only its rows in error listed.
LISTED_ROWS = 200


async def _acting_admin(database: Database, institution: str, admin_email: str | None) -> Actor:
    async with database.session() as session:
        institution_id = await institution_id_of(session, institution)
        query = select(User).where(User.institution_id == institution_id, User.role == Role.ADMIN)
        if admin_email:
            query = query.where(User.email_key == admin_email.strip().lower())
        admin = await session.scalar(query.order_by(User.id).limit(1))
    if admin is None:
        raise NotFound(
            f"{institution} has no admin {admin_email or ''} to act as; create one first."
        )
    return Actor.of(admin)


async def _run(
    settings: Settings, data: bytes, filename: str, institution: str, admin: str | None, apply: bool
) -> RosterReport:
    subscribe_mail()  # the learners' "enrolled" e-mail, as the server writes it
    database = Database(settings)
    try:
        actor = await _acting_admin(database, institution, admin)
        if apply:
            return await database.run(lambda s: import_roster(s, actor, data, filename))
        async with database.session() as session:
            return await plan_roster(session, actor, data, filename)
    finally:
        await database.dispose()


def enroll_from_file(
    settings: Settings, path: Path, *, institution: str, admin: str | None, apply: bool
) -> RosterReport:
    """Plan or apply the file; LecternError when the file, the institution or a row refuses it."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotFound(f"Cannot read {path}: {error.strerror}.") from error
    return asyncio.run(_run(settings, data, path.name, institution, admin, apply))


def print_roster_rows(console: Console, rows: list[dict[str, object]], title: str) -> None:
    table = Table(title=title)
    for column in ("line", "e-mail", "course", "action", "outcome", "why"):
        table.add_column(column)
    for row in rows:
        style = "red" if row["outcome"] == Outcome.ERROR else ""
        table.add_row(
            *(str(row[key] or "") for key in ("line", "email", "course", "action")),
            f"[{style}]{row['outcome']}[/{style}]" if style else str(row["outcome"]),
            str(row["reason"]),
        )
    console.print(table)


def print_roster(console: Console, report: RosterReport, *, apply: bool) -> None:
    rows = [row_report(planned) for planned in report.rows]
    if len(rows) > LISTED_ROWS:
        rows = [row for row in rows if row["outcome"] == Outcome.ERROR]
    if rows:
        print_roster_rows(
            console, rows, f"{report.filename}: what each row {'did' if apply else 'would do'}"
        )
    counts = ", ".join(f"{outcome} {n}" for outcome, n in report.outcomes.items() if n)
    console.print(f"{len(report.rows)} rows: {counts}.")
    if not report.ok:
        console.print("[red]Rows in error: nothing is applied until they are fixed.[/red]")
    elif not apply:
        console.print("Dry run: nothing written. Run with --apply to take the file in.")


def refusal_rows(error: LecternError) -> list[dict[str, object]]:
    rows = error.extra.get("rows")
    return rows if isinstance(rows, list) else []
