"""The `lectern` command."""

import asyncio
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.passwords import password_as_entered, password_weakness
from lectern.accounts.security import hash_password
from lectern.accounts.service import create_staff
from lectern.audit import service as audit_service
from lectern.audit.service import Report
from lectern.demo.service import is_empty, load_demo
from lectern.generate.service import Generated, generate
from lectern.importing.command import ImportRefused, import_legacy, print_report
from lectern.institutions.merge import MergeResult, merge_institutions
from lectern.institutions.service import institution_id_of
from lectern.platform import migrate, serving
from lectern.platform.config import get_settings
from lectern.platform.db import Database
from lectern.platform.errors import LecternError
from lectern.platform.public_url import settings_served_at
from lectern.rosters.command import (
    enroll_from_file,
    print_roster,
    refusal_rows,
)

APP = "lectern.app:create_app"
app = typer.Typer(help="Lectern, a learning management system core.", no_args_is_help=True)
console = Console()


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations."""
    migrate.upgrade(get_settings().database_url)
    console.print("[green]Database is at the latest migration.[/green]")


async def _load_demo_if_empty() -> bool:
    database = Database(get_settings())
    try:
        async with database.session() as session:
            if not await is_empty(session):
                return False
        logins = await database.run(load_demo)
    finally:
        await database.dispose()
    table = Table(title="Demo logins (first start)")
    for column in ("role", "e-mail", "password"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role, login.email, login.password)
    console.print(table)
    return True


@app.command()
def demo() -> None:
    """Load the demo data into an empty database."""
    migrate.upgrade(get_settings().database_url)
    if not asyncio.run(_load_demo_if_empty()):
        console.print("The database already has users; demo data not loaded.")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Processes to run; use PostgreSQL for more than one."),
    reload: bool = typer.Option(False, help="Restart on code changes (development)."),
    log_level: str = typer.Option("info", help="uvicorn's log level."),
    access_log: bool = typer.Option(True, help="Log every request."),
    backlog: int = typer.Option(2048, help="Connections the kernel queues before accepting."),
    timeout_keep_alive: int = typer.Option(5, help="Seconds an idle connection is kept."),
) -> None:
    """Migrate, load the demo data on first start, and serve the web app and the API."""
    settings = settings_served_at(host, port)
    if workers > 1 and not settings.is_postgres:
        raise typer.BadParameter("Several workers need PostgreSQL (LECTERN_DATABASE_URL).")
    migrate.upgrade(settings.database_url)
    if settings.demo_on_first_start:
        asyncio.run(_load_demo_if_empty())
    console.print(f"Lectern on http://{host}:{port}  (API docs at /docs)")
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        **serving.proxy_options(settings),
        "log_level": log_level,
        "access_log": access_log,
        "backlog": backlog,
        "timeout_keep_alive": timeout_keep_alive,
    }
    if reload:
        uvicorn.run(APP, reload=True, **options)
    else:
        serving.serve(uvicorn.Config(APP, workers=workers, **options))


@app.command("create-admin")
def create_admin(
    institution: str = typer.Option(..., help="Institution name; created if missing."),
    email: str = typer.Option(...),
    password: str = typer.Option(..., prompt=True, hide_input=True),
    full_name: str = typer.Option("Administrator", "--name"),
    platform_admin: bool = typer.Option(
        False, "--platform-admin", help="Also let them act on every institution (merging)."
    ),
) -> None:
    """Create an admin of an institution (matching its name case- and space-insensitively)."""
    password = password_as_entered(password)
    if weakness := password_weakness(password, user_inputs=(email, full_name)):
        raise typer.BadParameter(weakness, param_hint="--password")
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    password_hash = hash_password(password)

    async def run() -> bool:
        database = Database(settings)
        try:
            _, created = await database.run(
                lambda s: create_staff(
                    s,
                    institution_name=institution,
                    email=email,
                    password_hash=password_hash,
                    full_name=full_name,
                    is_platform_admin=platform_admin,
                )
            )
            return created
        finally:
            await database.dispose()

    created = asyncio.run(run())
    console.print(f"Admin {email} {'created' if created else 'already exists'}.")


def _print_report(report: Report, *, applied: bool) -> None:
    table = Table(title=f"Consistency audit, {report.checked_at:%Y-%m-%d %H:%M:%S} UTC")
    for column in ("invariant", "violations", "repaired" if applied else "repairable"):
        table.add_column(column)
    for finding in report.findings:
        last = str(finding.repaired) if applied else ("yes" if finding.repairable else "no")
        style = "red" if finding.count else "green"
        table.add_row(finding.description, f"[{style}]{finding.count}[/{style}]", last)
    console.print(table)


async def _audit(apply: bool | None) -> Report:
    database = Database(get_settings())
    try:
        if apply is None:
            return await audit_service.audit_in_parallel(database)
        return await database.run(lambda s: audit_service.repair(s, apply=apply))
    finally:
        await database.dispose()


@app.command()
def audit() -> None:
    """Check every consistency invariant; exits 1 when any is violated."""
    report = asyncio.run(_audit(None))
    _print_report(report, applied=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def repair(
    apply: bool = typer.Option(False, "--apply", help="Write the repairs (default: dry run)."),
) -> None:
    """Repair what the audit finds by re-applying the commands; a dry run unless --apply."""
    report = asyncio.run(_audit(apply))
    _print_report(report, applied=apply)
    if not apply and not report.ok:
        console.print("Dry run: nothing written. Run with --apply to repair.")


@app.command("generate")
def generate_command(
    enrollments: int = typer.Option(..., min=1, max=10_000_000, help="Enrollments to make."),
    institutions: int = typer.Option(1, min=1, max=1_000, help="Institutions to spread them over."),
    seed: int = typer.Option(0, help="Seed of the random choices; the same seed, the same data."),
) -> None:
    """Write a realistic data set in bulk: institutions, courses, students, enrollments of every
    status and source, requests, payments, learning facts, certificates and events."""
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    columns = (
        TextColumn("[bold]generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("enrollments"),
        TimeElapsedColumn(),
    )

    async def run(progress: Progress) -> Generated:
        task = progress.add_task("enrollments", total=enrollments)
        database = Database(settings)
        try:
            return await generate(
                database,
                enrollments,
                institutions=institutions,
                seed=seed,
                on_progress=lambda done: progress.update(task, completed=done),
            )
        finally:
            await database.dispose()

    with Progress(*columns, console=console) as progress:
        result = asyncio.run(run(progress))
    console.print(
        f"{result.enrollments} enrollments of {result.students} students in "
        f"{len(result.admins)} institutions. Admins (password {result.password!r}): "
        + ", ".join(result.admins)
    )


@app.command("merge-institutions")
def merge_institutions_command(
    into: str = typer.Argument(..., help="The institution to keep: its id, name or slug."),
    duplicates: list[str] = typer.Argument(..., help="Institutions to merge into it and delete."),
) -> None:
    """Move the users, courses, payments and events of duplicate institutions into one."""
    settings = get_settings()
    migrate.upgrade(settings.database_url)

    async def command(session: AsyncSession) -> MergeResult:
        into_id = await institution_id_of(session, into)
        ids = [await institution_id_of(session, duplicate) for duplicate in duplicates]
        return await merge_institutions(session, into_id, ids, actor=None)

    async def run() -> MergeResult:
        database = Database(settings)
        try:
            return await database.run(command)
        finally:
            await database.dispose()

    try:
        result = asyncio.run(run())
    except LecternError as error:
        console.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from error
    names = ", ".join(merged.name for merged in result.merged)
    if not result.merged_now:
        console.print(f"{names}: merged into {result.institution.name} before; nothing to do.")
        return
    console.print(
        f"Merged {names} into {result.institution.name}: {result.users_moved} users and "
        f"{result.courses_moved} courses moved, {result.enrollments_created} default-course "
        "enrollments made."
    )
    for course in result.renamed_courses:
        console.print(f"  course {course.title!r} is now at slug {course.slug!r}")


@app.command("import-legacy")
def import_legacy_command(
    source_url: str = typer.Argument(..., help="The legacy database (PostgreSQL or MySQL URL)."),
    apply: bool = typer.Option(False, "--apply", help="Write the import (default: dry run)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Take in the legacy platform's database, deciding every conflict by Lectern's rules; a
    dry run that writes nothing unless --apply. Exits 2 on a source or target it cannot use."""
    try:
        report = import_legacy(get_settings(), source_url, apply=apply, as_json=as_json)
    except ImportRefused as refused:
        typer.echo(f"import-legacy: {refused}", err=True)
        raise typer.Exit(2) from refused
    print_report(report, as_json=as_json)


@app.command("enroll-csv")
def enroll_csv_command(
    file: Path = typer.Argument(
        ..., help="CSV: email, course (id or slug), action, ends_at?, full_name?"
    ),
    institution: str = typer.Option(..., help="The institution: its id, name or slug."),
    admin: str | None = typer.Option(None, help="The admin to act as (default: its first admin)."),
    apply: bool = typer.Option(False, "--apply", help="Take the file in (default: dry run)."),
) -> None:
    """Enroll and unenroll learners from a roster file, each row as an admin's single enrollment,
    the whole file in one transaction. Exits 1 when a row is in error (nothing is applied) and
    2 when the file or the institution cannot be used."""
    try:
        report = enroll_from_file(
            get_settings(), file, institution=institution, admin=admin, apply=apply
        )
    except LecternError as error:
        rows = refusal_rows(error)
        for row in rows:
            typer.echo(f"{file.name}, line {row['line']}: {row['reason']}", err=True)
        typer.echo(f"enroll-csv: {error.detail}", err=True)
        raise typer.Exit(1 if rows else 2) from error
    print_roster(console, report, apply=apply)
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
