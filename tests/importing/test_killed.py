"""`lectern import-legacy --apply` killed with SIGKILL while its transaction is open leaves the
target as it was, and running it again imports exactly what an uninterrupted run would."""

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from lectern.platform.db import Database
from tests.importing.legacy_databases import legacy_postgres, sample_sql
from tests.importing.test_import import _counts

# Big enough that the write takes a while, and that PostgreSQL loads it in bulk.
STUDENTS = 300
DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    with legacy_postgres(sample_sql(STUDENTS, 5)) as url:
        yield url


def _import_legacy(*args: str) -> list[str]:
    return [sys.executable, "-m", "lectern.cli", "import-legacy", *args]


def _environment(target: str) -> dict[str, str]:
    return os.environ | {"LECTERN_DATABASE_URL": target}


def _writing(target: str) -> Callable[[], bool]:
    """Whether another connection holds an open transaction that has written to the target."""
    url = make_url(target)
    if url.get_backend_name() == "sqlite":
        path = url.database
        assert path is not None

        def sqlite_writer() -> bool:
            probe = sqlite3.connect(path, timeout=0)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
                return False
            except sqlite3.OperationalError:
                return True  # locked: a write transaction is open
            finally:
                probe.close()

        return sqlite_writer
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    def postgres_writer() -> bool:
        with psycopg.connect(dsn, autocommit=True) as probe:
            found = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            ).fetchone()
            return bool(found and found[0])

    return postgres_writer


def _run(target: str, source: str, *options: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        _import_legacy(source, *options, "--json"),
        env=_environment(target), capture_output=True, text=True, timeout=DEADLINE_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _killed_while_writing(target: str, source: str) -> int:
    """Runs the import and SIGKILLs it once its transaction has written; its exit status."""
    writing = _writing(target)
    process = subprocess.Popen(  # noqa: S603
        _import_legacy(source, "--apply", "--json"),
        env=_environment(target), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    started = time.monotonic()
    try:
        while not writing():
            assert process.poll() is None, "the import finished before it could be killed"
            assert time.monotonic() - started < DEADLINE_S
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=DEADLINE_S)
    return process.returncode


async def test_an_import_killed_midway_leaves_nothing_and_a_rerun_imports_what_one_run_would(
    db: Database, source: str
) -> None:
    target = db.settings.database_url
    before = await _counts(db)
    planned = _run(target, source)

    returncode = await asyncio.to_thread(_killed_while_writing, target, source)
    assert returncode == -signal.SIGKILL
    assert await _counts(db) == before

    report = _run(target, source, "--apply")
    assert report["applied"] is True
    assert report["tables"] == planned["tables"]
    assert report["decisions"] == planned["decisions"]
    assert report["lectern"] == planned["lectern"]
    assert report["audit"] == {"violations": 0, "by_invariant": {}}
    after = await _counts(db)
    for table, created in planned["lectern"].items():
        assert after[table] - before[table] == created, table
    assert _run(target, source, "--apply")["import_id"] is None
    assert await _counts(db) == after
