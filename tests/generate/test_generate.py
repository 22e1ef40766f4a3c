"""`lectern generate` writes what the commands would have: the audit finds nothing afterwards."""

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lectern import cli
from lectern.audit.service import run_audit
from lectern.generate.service import generate
from lectern.platform.config import get_settings
from lectern.platform.db import Database
from tests.factories import World
from tests.rows import rows, scalar

runner = CliRunner()


async def _findings(db: Database) -> dict[str, int]:
    async with db.session() as session:
        report = await run_audit(session)
    return {finding.name: finding.count for finding in report.findings if finding.count}


async def _values(db: Database, sql: str) -> set[Any]:
    return {row["v"] for row in await rows(db, sql)}


async def test_generated_data_passes_every_audit_invariant(db: Database) -> None:
    result = await generate(db, 400, institutions=2, seed=7)

    assert result.enrollments == 400
    assert await scalar(db, "SELECT count(*) FROM enrollments") == 400
    assert await _findings(db) == {}


async def test_generated_data_has_every_status_source_and_kind_of_fact(db: Database) -> None:
    await generate(db, 400, institutions=2, seed=7)

    assert await _values(db, "SELECT DISTINCT status AS v FROM enrollments") == {
        "active", "completed", "cancelled"
    }  # fmt: skip
    assert await _values(db, "SELECT DISTINCT source AS v FROM enrollments") == {
        "self", "request", "admin", "payment", "default", "import"
    }  # fmt: skip
    assert await _values(db, "SELECT DISTINCT status AS v FROM access_requests") == {
        "pending", "approved", "rejected", "cancelled"
    }  # fmt: skip
    assert await _values(db, "SELECT DISTINCT status AS v FROM payments") == {
        "completed", "refunded", "failed"
    }  # fmt: skip
    assert await _values(db, "SELECT DISTINCT status AS v FROM qbank_tests") == {
        "completed", "in_progress"
    }  # fmt: skip
    completed = await scalar(db, "SELECT count(*) FROM enrollments WHERE status = 'completed'")
    assert completed > 0
    assert await scalar(db, "SELECT count(*) FROM certificates") == completed
    facts = sum(
        [
            await scalar(db, f"SELECT count(*) FROM {table}")  # noqa: S608
            for table in ("lesson_progress", "quiz_attempts", "qbank_tests", "qbank_test_questions")
        ]
    )
    assert 7 <= facts / 400 <= 14
    assert await scalar(db, "SELECT min(attempts) FROM qbank_questions WHERE attempts > 0") > 0
    assert await scalar(db, "SELECT count(DISTINCT type) FROM events") >= 12


async def test_commands_after_generation_get_fresh_ids_and_keep_the_audit_clean(
    db: Database, world: World
) -> None:
    await generate(db, 100, seed=3)
    last_enrollment = await scalar(db, "SELECT max(id) FROM enrollments")
    slug = await scalar(db, "SELECT slug FROM institutions")
    course = (
        await rows(db, "SELECT id FROM courses WHERE access = 'open' AND status = 'published'")
    )[0]

    student = await world.student(slug)
    response = await world.client.post(
        f"/api/v1/courses/{course['id']}/enroll", headers=student.headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["id"] > last_enrollment
    assert await _findings(db) == {}


def test_generate_command_then_audit_exits_zero(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LECTERN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'generated.db'}")
    get_settings.cache_clear()
    try:
        generated = runner.invoke(cli.app, ["generate", "--enrollments", "60", "--seed", "1"])
        audited = runner.invoke(cli.app, ["audit"])
    finally:
        get_settings.cache_clear()

    assert generated.exit_code == 0, generated.output
    assert "60 enrollments" in generated.output
    assert audited.exit_code == 0, audited.output
