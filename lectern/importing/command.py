"""`lectern import-legacy`: read the legacy database, plan, apply, and say what was decided."""

import asyncio
import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from lectern.importing.plan import Legacy
from lectern.importing.service import TargetNotReady, check_target, run_import
from lectern.importing.source import SourceError, described, read_legacy
from lectern.platform.config import Settings
from lectern.platform.db import Database


class ImportRefused(Exception):
    """Bad input (source or target): the one line to print, with exit status 2."""


async def _check(settings: Settings) -> None:
    database = Database(settings)
    try:
        await check_target(database)
    finally:
        await database.dispose()


async def _run(settings: Settings, legacy: Legacy, source: str, apply: bool) -> dict[str, Any]:
    database = Database(settings)
    try:
        return await run_import(database, legacy, source, apply=apply)
    finally:
        await database.dispose()


def _read(url: str, console: Console, show_progress: bool) -> Legacy:
    if not show_progress:
        return read_legacy(url)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as progress:
        task = progress.add_task("reading the legacy database")
        read = {"rows": 0}

        def advance(table: str, rows: int) -> None:
            read["rows"] += rows
            progress.update(task, description=f"reading {table}: {read['rows']:,} rows")

        return read_legacy(url, advance)


def import_legacy(settings: Settings, url: str, *, apply: bool, as_json: bool) -> dict[str, Any]:
    """Run the import; ImportRefused when the source or the target cannot take part."""
    err = Console(stderr=True)
    try:
        asyncio.run(_check(settings))
        legacy = _read(url, err, show_progress=not as_json and sys.stderr.isatty())
        return asyncio.run(_run(settings, legacy, described(url), apply))
    except (SourceError, TargetNotReady) as error:
        raise ImportRefused(str(error)) from error


def print_report(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    console = Console()
    verb = "Imported" if report["applied"] else "Dry run (nothing written)"
    console.print(f"[bold]{verb}[/bold] from {report['source']['url']}")
    tables = Table(title="Legacy rows")
    for column in ("table", "read", "imported", "merged", "skipped", "reasons"):
        tables.add_column(column)
    for name, t in report["tables"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in t["reasons"].items())
        tables.add_row(name, *(str(t[k]) for k in ("read", "imported", "merged", "skipped")),
                       reasons)  # fmt: skip
    console.print(tables)
    decisions = Table(title="Decisions")
    decisions.add_column("rule")
    decisions.add_column("fired")
    for kind, n in report["decisions"].items():
        decisions.add_row(kind, str(n))
    console.print(decisions)
    created = ", ".join(f"{k} {v}" for k, v in report["lectern"].items())
    console.print(f"Lectern rows {'created' if report['applied'] else 'to create'}: {created}")
    for note in report["notes"]:
        console.print(f"Note: {note}")
    console.print(f"Audit violations: {report['audit']['violations']}")
