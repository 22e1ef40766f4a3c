"""Each tally is counted beside its rows; damaged by hand, the audit reports it and repair
recounts it from the rows."""

import httpx
import pytest
from sqlalchemy import text

from lectern.platform.db import Database
from lectern.tallies.rebuild import rebuild_tallies, recounted_after_bulk_load
from tests.audit.recorded import audited
from tests.factories import Person, World
from tests.rows import rows, tally_rows

TALLIES = [
    "course_tallies_off",
    "learner_tallies_off",
    "progress_buckets_off",
    "completion_days_off",
    "institution_tallies_off",
]


async def _findings(client: httpx.AsyncClient, admin: Person) -> dict[str, int]:
    response = await audited(client, admin.headers)
    assert response.status_code == 200, response.text
    return {f["name"]: f["count"] for f in response.json()["findings"] if f["name"] in TALLIES}


async def _repair_finds_nothing_after(client: httpx.AsyncClient, admin: Person) -> None:
    repaired = await client.post(
        "/api/v1/admin/consistency/repair", json={"dry_run": False}, headers=admin.headers
    )
    assert repaired.status_code == 200, repaired.text
    assert await _findings(client, admin) == dict.fromkeys(TALLIES, 0)


async def _school(db: Database, world: World) -> Person:
    """Three students in a course of two readings: one half-way, one finished, one asking."""
    admin = await world.admin()
    course = await world.course(
        admin,
        access="open",
        chapters=[
            {
                "title": "One",
                "lessons": [
                    {"title": "A", "kind": "reading"},
                    {"title": "B", "kind": "reading"},
                ],
            }
        ],
    )
    other = await world.course(admin)
    lessons = [lesson["id"] for lesson in course["chapters"][0]["lessons"]]
    client = world.client
    for done in (lessons[:1], lessons):
        student = await world.student(admin.institution_slug)
        enrolled = await client.post(
            f"/api/v1/courses/{course['id']}/enroll", headers=student.headers
        )
        assert enrolled.status_code == 201, enrolled.text
        events = [{"type": "lesson.completed", "lesson_id": lesson} for lesson in done]
        posted = await client.post(
            "/api/v1/activity", json={"events": events}, headers=student.headers
        )
        assert posted.status_code == 200, posted.text
    asking = await world.student(admin.institution_slug)
    requested = await client.post(
        f"/api/v1/courses/{other['id']}/access-requests", headers=asking.headers
    )
    assert requested.status_code == 201, requested.text
    return admin


DAMAGE = {
    "course_tallies_off": "UPDATE course_tallies SET active = active + 5, progress_sum = 1",
    "learner_tallies_off": "UPDATE learner_tallies SET pending_requests = pending_requests + 2",
    "progress_buckets_off": "DELETE FROM progress_buckets",
    "completion_days_off": "UPDATE completion_days SET completions = 9",
    "institution_tallies_off": "UPDATE institution_tallies SET students = students + 1",
}


@pytest.mark.parametrize("tally", TALLIES)
async def test_the_audit_reports_a_damaged_tally_and_repair_recounts_it(
    tally: str, db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await _school(db, world)
    assert await _findings(client, admin) == dict.fromkeys(TALLIES, 0)
    counted = await tally_rows(db)
    assert counted[2], "the histogram has rows"
    assert counted[3], "a completion was counted"

    async with db.engine.begin() as connection:
        await connection.execute(text(DAMAGE[tally]))
    found = await _findings(client, admin)
    assert found[tally] > 0
    assert {name: n for name, n in found.items() if name != tally} == dict.fromkeys(
        set(TALLIES) - {tally}, 0
    )

    await _repair_finds_nothing_after(client, admin)
    assert await tally_rows(db) == counted


async def test_a_learners_lost_active_enrollment_is_repaired_with_their_institution(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await _school(db, world)
    counted = await tally_rows(db)
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE learner_tallies SET active = 0"))
    found = await _findings(client, admin)
    assert found["learner_tallies_off"] == 1
    assert found["institution_tallies_off"] == 1
    await _repair_finds_nothing_after(client, admin)
    assert await tally_rows(db) == counted


async def test_rebuilding_every_tally_from_the_rows_gives_what_the_commands_counted(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await _school(db, world)
    counted = await tally_rows(db)
    async with db.engine.begin() as connection:
        for damage in DAMAGE.values():
            await connection.execute(text(damage))
    assert all((await _findings(client, admin)).values())
    await db.run(rebuild_tallies)
    assert await tally_rows(db) == counted
    assert await _findings(client, admin) == dict.fromkeys(TALLIES, 0)


TRIGGERS = {
    f"tally_{table}_{event}"
    for table in ("enrollments", "requests", "users")
    for event in ("insert", "update", "delete")
} | {"tally_active_learners_insert", "tally_active_learners_update"}


async def test_every_tally_trigger_is_there_after_all_the_migrations(db: Database) -> None:
    """A later migration that rebuilds a table on SQLite drops its triggers: it must put the
    tally triggers back, or the tallies would stop counting."""
    if db.is_postgres:
        sql = "SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    assert {row["name"] for row in await rows(db, sql)} >= TRIGGERS


async def test_a_bulk_load_is_counted_once_by_the_recount_after_it(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await _school(db, world)
    counted = await tally_rows(db)
    async with db.engine.begin() as connection:
        await connection.execute(text("DELETE FROM enrollments"))
    async with db.engine.begin() as connection, recounted_after_bulk_load(connection):
        for row in counted[1]:
            await connection.execute(
                text(
                    "INSERT INTO enrollments (user_id, course_id, status, source, progress,"
                    " completed_at, created_at, updated_at) SELECT :u, course_id, 'active',"
                    " 'import', 0, NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                    " FROM course_tallies WHERE active + completed > 0"
                ),
                {"u": row["user_id"]},
            )
        if db.is_postgres:
            # Nothing was counted row by row, even with the deferred triggers fired now.
            await connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
            during = await connection.execute(text("SELECT sum(active) FROM course_tallies"))
            assert during.scalar() == 0
    assert await _findings(client, admin) == dict.fromkeys(TALLIES, 0)
    enrolled = await rows(db, "SELECT count(*) AS n FROM enrollments")
    active = await rows(db, "SELECT sum(active) AS n FROM course_tallies")
    assert active == enrolled
