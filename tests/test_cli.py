"""The `lectern` command: create-admin, demo, and serve's first start (migrate + demo data)."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import text
from typer.testing import CliRunner

from lectern import cli
from lectern.platform.config import get_settings
from lectern.platform.db import make_engine
from tests.test_stateful import VIOLATIONS

runner = CliRunner()


def _query(url: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(text(sql))).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def lectern_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run the command with a database URL of the test's choosing."""

    def invoke(url: str, *args: str, demo_on_first_start: bool = False) -> Any:
        monkeypatch.setenv("LECTERN_DATABASE_URL", url)
        monkeypatch.setenv("LECTERN_DEMO_ON_FIRST_START", str(demo_on_first_start).lower())
        get_settings.cache_clear()
        result = runner.invoke(cli.app, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    yield invoke
    get_settings.cache_clear()


def test_create_admin_twice_with_differently_written_names_is_one_institution(
    lectern_env: Any, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    first = lectern_env(
        url,
        "create-admin",
        "--institution",
        "ABC Academy",
        "--email",
        "a@abc.test",
        "--password",
        "long enough",
    )
    second = lectern_env(
        url,
        "create-admin",
        "--institution",
        "  abc   ACADEMY ",
        "--email",
        "b@abc.test",
        "--password",
        "long enough",
    )
    again = lectern_env(
        url,
        "create-admin",
        "--institution",
        "ABC ACADEMY",
        "--email",
        "A@abc.test",
        "--password",
        "long enough",
    )
    assert first.exit_code == second.exit_code == again.exit_code == 0, first.output
    assert "created" in first.output
    assert "already exists" in again.output
    assert _query(url, "SELECT name, name_key, slug FROM institutions") == [
        ("ABC Academy", "abc academy", "abc-academy")
    ]
    users = _query(url, "SELECT email, role, institution_id FROM users ORDER BY id")
    assert users == [("a@abc.test", "admin", 1), ("b@abc.test", "admin", 1)]


def test_create_admin_refuses_a_short_password(lectern_env: Any, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = lectern_env(
        url, "create-admin", "--institution", "X", "--email", "x@x.test", "--password", "short"
    )
    assert result.exit_code != 0


def test_demo_loads_once_into_an_empty_database(lectern_env: Any, empty_database: str) -> None:
    result = lectern_env(empty_database, "demo")

    assert result.exit_code == 0, result.output
    for login in ("admin@northwind.test", "instructor@northwind.test", "student@northwind.test"):
        assert login in result.output
    assert _query(empty_database, "SELECT count(*) FROM institutions") == [(1,)]
    counts = {
        table: _query(empty_database, f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608
        for table in ("users", "student_profiles", "courses", "enrollments", "access_requests")
    }
    assert counts["users"] >= 5
    assert counts["student_profiles"] >= 3
    assert counts["courses"] >= 4
    assert counts["enrollments"] >= 3
    assert (
        _query(empty_database, "SELECT count(*) FROM access_requests WHERE status = 'pending'")[0][
            0
        ]
        >= 1
    )
    for name, sql in VIOLATIONS.items():
        assert _query(empty_database, sql) == [], name

    again = lectern_env(empty_database, "demo")
    assert again.exit_code == 0
    assert "not loaded" in again.output
    assert _query(empty_database, "SELECT count(*) FROM users")[0][0] == counts["users"]


def test_serve_first_start_migrates_and_loads_the_demo(
    lectern_env: Any, empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[uvicorn.Config] = []
    monkeypatch.setattr(cli.serving, "serve", served.append)

    result = lectern_env(empty_database, "serve", "--port", "8123", demo_on_first_start=True)

    assert result.exit_code == 0, result.output
    assert "admin@northwind.test" in result.output
    [config] = served
    assert config.workers == 1
    assert (config.app, config.factory, config.host, config.port) == (
        "lectern.app:create_app",
        True,
        "127.0.0.1",
        8123,
    )
    # No proxy is trusted unless configured, so X-Forwarded-For names no client.
    assert (config.proxy_headers, config.access_log, config.log_level) == (False, True, "info")
    assert _query(empty_database, "SELECT count(*) FROM institutions") == [(1,)]

    served.clear()
    second = lectern_env(empty_database, "serve", demo_on_first_start=True)
    assert second.exit_code == 0
    assert "admin@northwind.test" not in second.output
    assert _query(empty_database, "SELECT count(*) FROM institutions") == [(1,)]


def test_serve_refuses_several_workers_on_sqlite(lectern_env: Any, tmp_path: Path) -> None:
    result = lectern_env(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", "serve", "--workers", "2")
    assert result.exit_code != 0
    assert "PostgreSQL" in result.output


def test_migrate_command(lectern_env: Any, empty_database: str) -> None:
    result = lectern_env(empty_database, "migrate")
    assert result.exit_code == 0
    assert _query(empty_database, "SELECT count(*) FROM users") == [(0,)]


def test_merge_institutions_by_name_once_then_nothing_to_do(
    lectern_env: Any, empty_database: str
) -> None:
    url = empty_database
    for institution, email, *flags in (
        ("ABC Academy", "a@abc.test", "--platform-admin"),
        ("ABC Academy Ltd", "b@abc.test"),
        ("abc-academy-online", "c@abc.test"),
    ):
        created = lectern_env(
            url, "create-admin", "--institution", institution, "--email", email,
            "--password", "long enough", *flags,
        )  # fmt: skip
        assert created.exit_code == 0, created.output

    merged = lectern_env(url, "merge-institutions", "abc academy", "ABC ACADEMY LTD", "3")
    again = lectern_env(url, "merge-institutions", "ABC Academy", "abc-academy-ltd", "3")
    unknown = lectern_env(url, "merge-institutions", "ABC Academy", "No Such School")

    assert merged.exit_code == 0, merged.output
    assert "2 users and 0 courses moved" in " ".join(merged.output.split())
    assert again.exit_code == 0, again.output
    assert "nothing to do" in " ".join(again.output.split())
    assert unknown.exit_code == 1
    assert "No Such School" in " ".join(unknown.output.split())
    assert _query(url, "SELECT id, name FROM institutions") == [(1, "ABC Academy")]
    assert _query(url, "SELECT DISTINCT institution_id FROM users") == [(1,)]
    platform = _query(url, "SELECT is_platform_admin FROM users ORDER BY id")
    assert [bool(row[0]) for row in platform] == [True, False, False]
