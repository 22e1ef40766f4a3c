"""`lectern import-legacy` from the command line: the report, `lectern audit` clean after it,
and exit status 2 with one line for a source or target it cannot use, writing nothing."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lectern import cli
from lectern.platform.config import get_settings
from lectern.platform.migrate import upgrade
from tests.importing.legacy_data import LegacyData, insert_statements
from tests.importing.legacy_databases import legacy_postgres

runner = CliRunner()


@pytest.fixture
def lectern(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """Runs `lectern` on a fresh, migrated SQLite target."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
    upgrade(url)

    def invoke(*args: str, target: str = url) -> Any:
        monkeypatch.setenv("LECTERN_DATABASE_URL", target)
        get_settings.cache_clear()
        return runner.invoke(cli.app, list(args))

    yield invoke
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def small_source() -> Iterator[str]:
    data = LegacyData()
    school = data.institution()
    course = data.course(school, default=True)
    user = data.user("ann@abc.example", school)
    data.enrollment(user, course)
    data.complete_everything(user, course)
    with legacy_postgres(*insert_statements(data.tables)) as url:
        yield url


def test_apply_prints_the_json_report_and_lectern_audit_is_clean_after_it(
    lectern: Any, small_source: str
) -> None:
    dry = lectern("import-legacy", small_source, "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["applied"] is False
    applied = lectern("import-legacy", small_source, "--apply", "--json")
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.stdout)
    assert report["lectern"]["certificates"] == 1
    assert report["audit"]["violations"] == 0
    assert lectern("audit").exit_code == 0
    summary = lectern("import-legacy", small_source)
    assert summary.exit_code == 0
    assert "Dry run" in summary.stdout


def test_an_unreachable_source_exits_2_with_one_line(lectern: Any) -> None:
    result = lectern("import-legacy", "postgresql://postgres@127.0.0.1:1/none", "--apply")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "cannot reach the legacy database" in result.stderr


def test_a_source_missing_a_table_exits_2_and_writes_nothing(lectern: Any, tmp_path: Path) -> None:
    with legacy_postgres("DROP TABLE payments") as url:
        result = lectern("import-legacy", url, "--apply")
    assert result.exit_code == 2
    assert "no table 'payments'" in result.stderr
    with sqlite3.connect(tmp_path / "target.db") as target:
        assert target.execute("SELECT count(*) FROM legacy_imports").fetchone() == (0,)


def test_a_source_that_is_not_a_supported_database_exits_2(lectern: Any) -> None:
    result = lectern("import-legacy", "oracle://legacy/db")
    assert result.exit_code == 2
    assert "PostgreSQL or MySQL" in result.stderr


def test_a_target_that_is_not_migrated_exits_2(
    lectern: Any, small_source: str, tmp_path: Path
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    result = lectern("import-legacy", small_source, "--apply", target=empty)
    assert result.exit_code == 2
    assert "not migrated" in result.stderr
