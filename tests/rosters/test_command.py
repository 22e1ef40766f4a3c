"""`lectern enroll-csv FILE --institution … [--apply]`: a dry run by default, the whole file or
nothing with --apply, and exit statuses a script can act on."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from lectern import cli
from lectern.platform.config import Settings, get_settings
from lectern.platform.db import Database
from tests.factories import World
from tests.rows import row_counts, rows

runner = CliRunner()


@pytest.fixture
def enroll_csv(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs the command against the test's database, in a thread of its own (it runs its own
    event loop)."""
    monkeypatch.setenv("LECTERN_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()

    async def invoke(*args: str) -> Result:
        return await asyncio.to_thread(runner.invoke, cli.app, ["enroll-csv", *args])

    yield invoke
    get_settings.cache_clear()


async def test_the_command_previews_then_applies_a_roster(
    world: World, client: httpx.AsyncClient, db: Database, enroll_csv: Any, tmp_path: Path
) -> None:
    admin = await world.admin("Lakeside College")
    ada = await world.student(admin.institution_slug)
    course = await world.course(admin, title="Intro")
    roster = tmp_path / "term.csv"
    roster.write_text(
        f"email,course,action,full_name\n{ada.email},{course['slug']},enroll,\n"
        f"new@example.test,{course['id']},enroll,New Learner\n"
    )
    before = await row_counts(db)

    preview = await enroll_csv(str(roster), "--institution", "lakeside college")

    assert preview.exit_code == 0, preview.output
    assert "Dry run" in preview.output
    assert "invite" in preview.output
    assert await row_counts(db) == before

    applied = await enroll_csv(str(roster), "--institution", admin.institution_slug, "--apply")

    assert applied.exit_code == 0, applied.output
    enrolled = await rows(
        db, "SELECT user_id FROM enrollments WHERE course_id = :c ORDER BY user_id", c=course["id"]
    )
    assert len(enrolled) == 2
    assert enrolled[0]["user_id"] == ada.id


async def test_a_row_in_error_exits_1_and_an_unusable_file_exits_2_writing_nothing(
    world: World, db: Database, enroll_csv: Any, tmp_path: Path
) -> None:
    admin = await world.admin("Lakeside College")
    await world.course(admin)
    bad_row = tmp_path / "bad.csv"
    bad_row.write_text("email,course,action\nada@example.test,no-such-course,enroll\n")
    not_utf8 = tmp_path / "latin1.csv"
    not_utf8.write_bytes("email,course,action\nzoë@example.test,x,enroll\n".encode("latin-1"))
    before = await row_counts(db)

    row_error = await enroll_csv(str(bad_row), "--institution", admin.institution_slug, "--apply")
    unreadable = await enroll_csv(str(not_utf8), "--institution", admin.institution_slug)
    missing = await enroll_csv(str(tmp_path / "none.csv"), "--institution", admin.institution_slug)
    nowhere = await enroll_csv(str(bad_row), "--institution", "No Such Place")

    assert row_error.exit_code == 1, row_error.output
    assert "not one of this institution's courses" in row_error.output
    assert (unreadable.exit_code, missing.exit_code, nowhere.exit_code) == (2, 2, 2)
    assert "not UTF-8" in unreadable.output
    assert await row_counts(db) == before
