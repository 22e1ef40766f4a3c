"""Legacy import: legacy rows per second taken into Lectern, against COPY-ing the same rows.

Lectern side: `make_sample.py --students N` (../shared/legacy/, beside the repository) is loaded
into a legacy PostgreSQL database; the import then reads it, plans it and applies it into a
migrated, empty Lectern database on the same server, in one transaction: the work of
`lectern import-legacy --apply` with the audit after it left out.

Baseline, in the same run: the same legacy rows COPY-ed from that database into an empty copy
of the legacy schema (COPY … TO STDOUT piped into COPY … FROM STDIN), the fastest way
PostgreSQL has to move those rows. Each side is timed as the faster of two runs. The ratio
(Lectern / COPY) prices reading, deciding every row, writing Lectern's rows with their ids and
the legacy-id links.
Each side starts after a CHECKPOINT, so that neither pays for the WAL written before it.

    .venv/bin/python bench/import.py [--students 100000] [--seed 1]
"""

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from harness import scratch_database
from sqlalchemy.engine import make_url

from lectern.importing.legacy_rows import TABLES
from lectern.importing.service import import_legacy
from lectern.importing.source import read_legacy
from lectern.platform.config import Settings
from lectern.platform.db import Database

ROOT = Path(__file__).resolve().parent.parent
LEGACY = ROOT / ".." / "shared" / "legacy"
SERVER = make_url(
    os.environ.get("LECTERN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)


@contextlib.contextmanager
def legacy_database(prefix: str) -> Iterator[str]:
    """An empty database with the legacy schema, dropped afterwards; its URL."""
    name = f"legacy_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    admin_url = SERVER.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute((LEGACY / "schema.sql").read_text())  # type: ignore[arg-type]
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_sample(url: str, students: int, seed: int) -> int:
    sample = subprocess.run(  # noqa: S603
        [sys.executable, str(LEGACY / "make_sample.py"), "--students", str(students),
         "--seed", str(seed)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sample)  # type: ignore[arg-type]
        return sum(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in TABLES
        )


def checkpoint(url: str) -> None:
    """The server's dirty pages written out, so that the part measured next does not pay for
    the WAL that loading the sample or the part before wrote."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def copy_baseline(source: str, target: str) -> float:
    """Seconds to COPY every legacy table from `source` into `target`, emptied first."""
    with psycopg.connect(target, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(TABLES)}")
    checkpoint(target)
    started = time.perf_counter()
    with psycopg.connect(source) as src, psycopg.connect(target) as dst:
        for table in TABLES:
            with (
                src.cursor().copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as out,
                dst.cursor().copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as into,
            ):
                for block in out:
                    into.write(block)
        dst.commit()
    return time.perf_counter() - started


async def lectern_import(source: str, target_url: str) -> dict[str, float]:
    """Seconds to read the legacy rows, and to plan and write the import into the empty Lectern
    database (the tables planning finishes first are written while the rest is planned)."""
    database = Database(Settings(database_url=target_url, demo_on_first_start=False))
    checkpoint(source)
    try:
        started = time.perf_counter()
        legacy = await asyncio.to_thread(read_legacy, source)
        read = time.perf_counter()
        await database.run(lambda s: import_legacy(s, legacy, "bench"))
        done = time.perf_counter()
    finally:
        await database.dispose()
    return {"read": read - started, "write": done - read, "total": done - started}


def _import_once(source: str) -> dict[str, float]:
    with scratch_database("import") as target:
        return asyncio.run(lectern_import(source, target.async_url))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with legacy_database("source") as source, legacy_database("copy") as copy_target:
        rows = load_sample(source, args.students, args.seed)
        print(f"legacy rows: {rows:,} (make_sample.py --students {args.students})")
        # The faster of two runs: this machine's COPY varies by a third between runs, and a
        # slow baseline would flatter the ratio.
        baseline = min(copy_baseline(source, copy_target) for _ in range(2))
        print(f"COPY baseline: {baseline:.1f} s, {rows / baseline:,.0f} rows/s")
        # The faster of two runs too, each into an empty database: a run here varies by a
        # fifth, and a slow one would understate the ratio as a slow baseline would flatter it.
        times = min((_import_once(source) for _ in range(2)), key=lambda t: t["total"])
        rate = rows / times["total"]
        print(
            f"Lectern import: {times['total']:.1f} s (read {times['read']:.1f}, plan and write "
            f"{times['write']:.1f}), {rate:,.0f} rows/s"
        )
        print(f"ratio Lectern / COPY: {rate / (rows / baseline):.2f} (target ≥ 0.25)")
        print(f"1,000,000 legacy rows at this rate: {1_000_000 / rate:.0f} s (target < 300 s)")


if __name__ == "__main__":
    main()
