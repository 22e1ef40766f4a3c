"""The sample imported into Lectern on SQLite and PostgreSQL: every row accounted for, the audit
clean, a second import changing nothing, a dry run writing nothing, a bulk load keeping every
constraint and tally, and a cut-over import taking in exactly the new rows."""

import asyncio
import copy
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import psycopg
import pytest
from sqlalchemy import func, select, text

from lectern.importing import copy_data, planning, writer
from lectern.importing.learning_plan import LearningPlanner
from lectern.importing.plan import Known, Legacy, Plan
from lectern.importing.planning import plan_import
from lectern.importing.rows import TableRows
from lectern.importing.service import run_import
from lectern.importing.source import read_legacy
from lectern.importing.writer import PlanWriter
from lectern.models import (
    Base,
    Enrollment,
    Event,
    LegacyImport,
    LessonProgress,
    Payment,
    QuizAttempt,
    StudentProfile,
    User,
)
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.importing.conftest import SEEDS
from tests.importing.legacy_data import LEGACY_HASH, LEGACY_PASSWORD, LegacyData, at
from tests.importing.legacy_databases import legacy_mariadb, sample_sql

# Counts kept by triggers beside the rows (lectern.models.tallies); the audit checks them.
TALLIES = {
    "course_tallies",
    "learner_tallies",
    "progress_buckets",
    "completion_days",
    "institution_tallies",
}


async def _counts(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def _assert_accounted(report: dict[str, Any], legacy: Legacy) -> None:
    for table, rows in legacy.items():
        empty = {"read": 0, "imported": 0, "merged": 0, "skipped": 0}
        counted = report["tables"].get(table, empty)
        assert counted["read"] == len(rows), table
        assert counted["read"] == counted["imported"] + counted["merged"] + counted["skipped"]


@pytest.mark.parametrize("seed", SEEDS)
async def test_the_sample_is_accounted_for_with_a_clean_audit_and_a_second_apply_adds_nothing(
    db: Database, samples: dict[int, Legacy], seed: int
) -> None:
    legacy = samples[seed]
    report = await run_import(db, legacy, "sample", apply=True)
    _assert_accounted(report, legacy)
    assert report["audit"] == {"violations": 0, "by_invariant": {}}
    assert report["decisions"]["institutions_merged"] == 7
    assert report["decisions"]["users_merged_by_email"] >= 1
    after_first = await _counts(db)
    assert after_first["institutions"] == 3
    assert after_first["events"] == 3  # the report, once per institution

    again = await run_import(db, legacy, "sample", apply=True)
    assert again["import_id"] is None
    assert again["lectern"] == {}
    _assert_accounted(again, legacy)
    assert await _counts(db) == after_first


async def test_a_dry_run_writes_nothing(db: Database, samples: dict[int, Legacy]) -> None:
    before = await _counts(db)
    report = await run_import(db, samples[SEEDS[0]], "sample", apply=False)
    assert report["applied"] is False
    assert report["lectern"]["enrollments"] > 0
    assert await _counts(db) == before


@pytest.mark.parametrize("bulk", ["every group", "groups larger than the Q-bank's"])
async def test_a_bulk_load_checks_its_keys_builds_its_indexes_and_counts_its_tallies_after_it(
    db: Database, samples: dict[int, Legacy], monkeypatch: pytest.MonkeyPatch, bulk: str
) -> None:
    """Groups written before the enrollments they refer to: all in bulk, or (the second case)
    the Q-bank's too small for one, so that it waits for them."""
    legacy = samples[SEEDS[1]]
    keys_before = await _foreign_keys(db)
    as_commands = await run_import(db, legacy, "sample", apply=False)
    rows = plan_import(legacy, Known(), utcnow()).rows
    qbank = len(rows["qbank_tests"]) + len(rows["qbank_test_questions"])
    assert len(rows["lesson_progress"]) + len(rows["quiz_attempts"]) > qbank
    monkeypatch.setattr(writer, "BULK_ROWS", 0 if bulk == "every group" else qbank + 1)
    report = await run_import(db, legacy, "sample", apply=True)
    assert report["lectern"] == as_commands["lectern"]
    assert report["tables"] == as_commands["tables"]
    assert report["audit"] == {"violations": 0, "by_invariant": {}}
    assert await _foreign_keys(db) == keys_before
    after = await _counts(db)
    assert after["course_tallies"] > 0
    assert after["institution_tallies"] > 0
    again = await run_import(db, legacy, "sample", apply=True)
    assert again["import_id"] is None
    assert await _counts(db) == after


async def test_the_json_a_bulk_load_writes_reads_back_as_planned(
    db: Database, samples: dict[int, Legacy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the jsonb columns' COPY data is made beside psycopg's jsonb dumper
    (copy_data.jsonb_data): the server takes it as the values planned."""
    legacy = samples[SEEDS[0]]
    planned = plan_import(legacy, Known(), utcnow()).rows
    monkeypatch.setattr(writer, "BULK_ROWS", 0)
    await run_import(db, legacy, "sample", apply=True)
    async with db.session() as session:
        watched = (await session.scalars(select(LessonProgress.watched))).all()
        answers = (await session.scalars(select(QuizAttempt.answers))).all()
        languages = (await session.scalars(select(StudentProfile.languages))).all()
    assert any(watched)
    assert any(answers)
    assert languages
    assert sorted(map(repr, watched)) == sorted(
        repr(r["watched"]) for r in planned["lesson_progress"]
    )
    assert sorted(map(repr, answers)) == sorted(
        repr(r["answers"]) for r in planned["quiz_attempts"]
    )
    assert set(map(repr, languages)) == {"[]"}


async def _foreign_keys(db: Database) -> list[tuple[str, str]]:
    """Each valid foreign key's and index's table and definition (PostgreSQL; SQLite writes
    no bulk load)."""
    if not db.is_postgres:
        return []
    async with db.session() as session:
        found = await session.execute(
            text(
                "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'f' AND convalidated"
                " UNION ALL SELECT tablename, indexdef FROM pg_indexes"
                " WHERE schemaname = 'public' ORDER BY 1, 2"
            )
        )
        return [(table, definition) for table, definition in found]


async def test_a_cut_over_import_takes_in_exactly_the_new_sign_ups_and_payments(
    db: Database, samples: dict[int, Legacy]
) -> None:
    legacy = copy.deepcopy(samples[SEEDS[0]])
    await run_import(db, legacy, "sample", apply=True)
    before = await _counts(db)
    later = LegacyData()
    later.tables = legacy
    school = legacy["institutions"][0].id
    paid = next(c for c in legacy["courses"] if (c.price or 0) > 0)
    newcomer = later.user("newcomer@abc.example", school, days=60)
    later.add("payments", user_id=newcomer, course_id=paid.id, amount=paid.price,
              currency="usd", status="completed", stripe_session_id="cs_new",
              created_at=at(61))  # fmt: skip

    report = await run_import(db, legacy, "sample", apply=True)
    after = await _counts(db)
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t] and t not in TALLIES}
    assert changed == {
        "users": 1, "student_profiles": 1, "payments": 1, "enrollments": 1,
        "legacy_imports": 1, "legacy_links": 3, "events": 1,
    }  # fmt: skip
    assert report["tables"]["users"]["imported"] == 1
    assert report["audit"]["violations"] == 0, report["audit"]
    async with db.session() as session:
        source = await session.scalar(
            select(Enrollment.source)
            .join(User, User.id == Enrollment.user_id)
            .where(User.email_key == "newcomer@abc.example")
        )
        assert source == "payment"
        assert await session.scalar(select(func.count()).select_from(Payment)) == after["payments"]


async def test_two_imports_at_once_take_turns_and_the_second_takes_in_nothing(
    db: Database, samples: dict[int, Legacy]
) -> None:
    legacy = samples[SEEDS[0]]
    only = await run_import(db, legacy, "alone", apply=False)

    reports = await asyncio.gather(
        run_import(db, legacy, "first", apply=True), run_import(db, legacy, "second", apply=True)
    )

    imported = sorted(sum(t["imported"] for t in r["tables"].values()) for r in reports)
    assert imported[0] == 0
    assert imported[1] == sum(t["imported"] for t in only["tables"].values())
    assert sorted(r["import_id"] is None for r in reports) == [False, True]
    counts = await _counts(db)
    assert counts["legacy_imports"] == 1
    assert counts["users"] == only["lectern"]["users"]
    assert all(r["audit"]["violations"] == 0 for r in reports)


async def test_the_sample_from_mariadb_imports_as_from_postgresql(
    db: Database, samples: dict[int, Legacy]
) -> None:
    with legacy_mariadb(sample_sql(40, SEEDS[0])) as url:
        legacy = read_legacy(url)
    from_postgres = await run_import(db, samples[SEEDS[0]], "postgresql", apply=False)
    report = await run_import(db, legacy, "mariadb", apply=True)
    _assert_accounted(report, legacy)
    assert report["tables"] == from_postgres["tables"]
    assert report["decisions"] == from_postgres["decisions"]
    assert report["audit"]["violations"] == 0


async def test_the_import_is_recorded_as_an_event_per_institution_with_its_decisions(
    db: Database, samples: dict[int, Legacy]
) -> None:
    report = await run_import(db, samples[SEEDS[1]], "sample", apply=True)
    async with db.session() as session:
        events = (await session.scalars(select(Event).order_by(Event.id))).all()
        record = await session.scalar(select(LegacyImport))
    assert {e.type for e in events} == {"import.completed"}
    parts = {p["id"]: p for p in report["institutions"]}
    for event in events:
        assert event.audience == "admins"
        assert event.payload["decisions"] == parts[event.institution_id]["decisions"]
    assert record is not None
    assert record.report["tables"] == report["tables"]


async def test_a_legacy_user_signs_in_with_their_old_password_and_again_on_the_new_hash(
    db: Database, client: httpx.AsyncClient
) -> None:
    data = LegacyData()
    school = data.institution()
    data.user("Ann@abc.example", school, password_hash=LEGACY_HASH)
    await run_import(db, data.tables, "hand-written", apply=True)
    credentials = {"email": "ann@abc.example", "password": LEGACY_PASSWORD}

    first = await client.post("/api/v1/auth/login", json=credentials)
    assert first.status_code == 200, first.text
    async with db.session() as session:
        new_hash = await session.scalar(select(User.password_hash))
    assert new_hash is not None
    assert new_hash.startswith("$argon2id$")
    client.cookies.clear()
    again = await client.post("/api/v1/auth/login", json=credentials)
    assert again.status_code == 200, again.text
    wrong = await client.post("/api/v1/auth/login", json={**credentials, "password": "nope-nope"})
    assert wrong.status_code == 401


@pytest.mark.postgres_only
@pytest.mark.parametrize("table", ["users", "enrollments"])
async def test_a_copy_that_fails_midway_writes_nothing_and_stops_what_runs_beside_it(
    db: Database, samples: dict[int, Legacy], monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """The users are written while the rest is planned (here, planning waits at the payments
    until writing them has failed), the enrollments after: either way the error comes out, no
    records are left being built, and planning goes no further."""
    copy = asyncpg.Connection.copy_to_table
    write, payments, decided = PlanWriter.write, LearningPlanner.payments, planning._enrollments
    failed = threading.Event()
    enrollments_decided: list[bool] = []

    async def failing(self: asyncpg.Connection, name: str, **options: Any) -> Any:
        if name == table:
            async for _chunk in options["source"]:
                break  # the server took a part, while the rest is made ahead of it
            raise asyncpg.exceptions.DiskFullError(f"no room for the {table}")
        return await copy(self, name, **options)

    async def writing(self: PlanWriter, plan: Plan, tables: tuple[str, ...]) -> None:
        try:
            await write(self, plan, tables)
        except asyncpg.exceptions.DiskFullError:
            failed.set()
            raise

    def paying(learning: LearningPlanner) -> None:
        if table == "users":
            assert failed.wait(timeout=30)
        payments(learning)

    def deciding(learning: LearningPlanner) -> None:
        enrollments_decided.append(True)
        decided(learning)

    monkeypatch.setattr(asyncpg.Connection, "copy_to_table", failing)
    monkeypatch.setattr(PlanWriter, "write", writing)
    monkeypatch.setattr(LearningPlanner, "payments", paying)
    monkeypatch.setattr(planning, "_enrollments", deciding)
    monkeypatch.setattr(writer, "BULK_ROWS", 0)
    monkeypatch.setattr(copy_data, "CHUNK", 4096)
    before, keys_before = await _counts(db), await _foreign_keys(db)

    with pytest.raises(asyncpg.exceptions.DiskFullError):
        await run_import(db, samples[SEEDS[0]], "sample", apply=True)

    assert not [t for t in threading.enumerate() if t.name.startswith("import-records")]
    assert await _counts(db) == before
    assert await _foreign_keys(db) == keys_before
    assert enrollments_decided == ([] if table == "users" else [True])


@pytest.mark.postgres_only
async def test_rows_that_cannot_be_made_into_copy_data_fail_the_import_and_write_nothing(
    db: Database, samples: dict[int, Legacy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lesson progress fails to be made into COPY data after the first chunks of it are
    sent: the error comes out of the COPY, the thread that made them has ended, and nothing of
    the import stands."""
    records = TableRows.copy_records

    def failing(self: TableRows, rows: list[Any], new_ids: Any) -> Iterator[tuple[Any, ...]]:
        made = records(self, rows, new_ids)
        if self.name != "lesson_progress":
            return made
        return (*itertools.islice(made, 200), ("not", "a", "row"))  # type: ignore[return-value]

    monkeypatch.setattr(TableRows, "copy_records", failing)
    monkeypatch.setattr(copy_data, "CHUNK", 4096)
    before = await _counts(db)

    with pytest.raises(psycopg.DataError):
        await run_import(db, samples[SEEDS[0]], "sample", apply=True)

    assert not [t for t in threading.enumerate() if t.name.startswith("import-records")]
    assert await _counts(db) == before
