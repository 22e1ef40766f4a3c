"""Audit runs: started by an admin as background work, recorded with their time, progress and
findings; the scheduled audit records its runs too."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import delete, update

from lectern.audit.invariants import INVARIANTS
from lectern.audit.runs import STALE_AFTER, start_run
from lectern.audit.schedule import audit_once
from lectern.models import AuditRun, StudentProfile
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.audit.recorded import CONSISTENCY, audited
from tests.audit.test_audit import _drift
from tests.factories import PASSWORD, Person, World
from tests.rows import rows, scalar

LATEST = "/api/v1/admin/consistency/runs/latest"


async def _finished(client: httpx.AsyncClient, admin: Person) -> dict[str, Any]:
    for _ in range(400):
        response = await client.get(LATEST, headers=admin.headers)
        if response.status_code == 200 and response.json()["status"] != "running":
            result: dict[str, Any] = response.json()
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("the audit run did not finish")


async def test_an_admin_starts_an_audit_run_and_sees_its_findings_progress_and_time(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin, _second, _course = await _drift(db, world)
    assert (await client.get(LATEST, headers=admin.headers)).status_code == 404

    started = await client.post("/api/v1/admin/consistency/runs", headers=admin.headers)

    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    done = await _finished(client, admin)
    assert done["id"] == started.json()["id"]
    assert done["status"] == "finished"
    assert done["progress"] == 1.0
    assert done["ok"] is False
    assert done["finished_at"] >= done["started_at"]
    found = {f["name"]: f["count"] for f in done["findings"] if f["count"]}
    assert found == {
        "pending_requests_beside_enrollments": 1,
        "approved_requests_without_enrollment": 1,
        "students_without_profile": 1,
        "qbank_statistics_off": 1,
    }
    progressed = await rows(
        db,
        "SELECT payload FROM events WHERE type = 'audit.progressed' AND institution_id = :i "
        "ORDER BY id",
        i=admin.institution_id,
    )
    assert len(progressed) == len(INVARIANTS)
    last = progressed[-1]["payload"]
    last = last if isinstance(last, dict) else __import__("json").loads(last)
    assert last["status"] == "finished"
    assert last["ok"] is False


async def test_another_institutions_admin_sees_no_run_of_theirs(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    other = await world.admin("Southside College")
    await client.post("/api/v1/admin/consistency/runs", headers=admin.headers)
    await _finished(client, admin)

    assert (await client.get(LATEST, headers=other.headers)).status_code == 404


async def test_students_cannot_start_an_audit_run(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)

    response = await client.post("/api/v1/admin/consistency/runs", headers=student.headers)

    assert response.status_code == 403
    assert await rows(world.db, "SELECT id FROM audit_runs") == []


async def test_the_scheduled_audit_is_recorded_as_a_run_of_every_institution(db: Database) -> None:
    assert await audit_once(db) is True

    recorded = await rows(db, "SELECT institution_id, status, progress FROM audit_runs")
    assert recorded == [{"institution_id": None, "status": "finished", "progress": 1.0}]


async def test_the_admin_consistency_page_is_served_to_admins_with_its_script(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    signed_in = await client.post(
        "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200

    page = await client.get("/admin/consistency")

    assert page.status_code == 200
    assert 'id="audit-run"' in page.text
    assert "consistency.js" in page.text
    assert 'href="/admin/consistency"' in (await client.get("/admin")).text


async def test_asking_for_a_run_while_one_is_running_answers_that_one(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    running = await db.run(lambda s: start_run(s, admin.institution_id))
    again = await client.post("/api/v1/admin/consistency/runs", headers=admin.headers)
    assert again.status_code == 202, again.text
    assert again.json()["id"] == running.id
    assert await scalar(db, "SELECT count(*) FROM audit_runs") == 1


async def test_a_run_left_running_for_over_an_hour_no_longer_holds_off_a_new_one(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    stale = await db.run(lambda s: start_run(s, admin.institution_id))
    await db.run(
        lambda s: s.execute(
            update(AuditRun)
            .where(AuditRun.id == stale.id)
            .values(started_at=utcnow() - STALE_AFTER - timedelta(minutes=1))
        )
    )
    fresh = await client.post("/api/v1/admin/consistency/runs", headers=admin.headers)
    assert fresh.status_code == 202, fresh.text
    assert fresh.json()["id"] != stale.id
    await _finished(client, admin)


async def test_the_consistency_report_is_the_last_finished_run_and_reading_it_audits_nothing(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    assert (await client.get(CONSISTENCY, headers=admin.headers)).status_code == 404
    clean = await audited(client, admin.headers)
    assert clean.status_code == 200, clean.text
    assert clean.json()["ok"] is True
    student = await world.student(admin.institution_slug)
    await db.run(
        lambda s: s.execute(delete(StudentProfile).where(StudentProfile.user_id == student.id))
    )
    runs_before = await scalar(db, "SELECT count(*) FROM audit_runs")

    again = await client.get(CONSISTENCY, headers=admin.headers)

    assert again.json() == clean.json()
    assert await scalar(db, "SELECT count(*) FROM audit_runs") == runs_before
    fresh = (await audited(client, admin.headers)).json()
    assert fresh["ok"] is False
    assert fresh["run_id"] != clean.json()["run_id"]
    assert fresh["checked_at"] > clean.json()["checked_at"]
    found = {f["name"]: f["count"] for f in fresh["findings"] if f["count"]}
    assert found == {"students_without_profile": 1}


async def test_a_clean_scheduled_audit_is_each_institutions_latest_audit(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    other = await world.admin("Southside College")
    own = (await audited(client, admin.headers)).json()

    assert await audit_once(world.db) is True

    for person in (admin, other):
        latest = (await client.get(LATEST, headers=person.headers)).json()
        assert (latest["scope"], latest["ok"], latest["status"]) == ("all", True, "finished")
        report = (await client.get(CONSISTENCY, headers=person.headers)).json()
        assert report["scope"] == "all"
        assert report["run_id"] == latest["id"] != own["run_id"]
        assert report["checked_at"] > own["checked_at"]
        assert all(f["count"] == 0 and f["rows"] == [] for f in report["findings"])


async def test_a_scheduled_audit_that_found_violations_is_shown_to_no_institution(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin, _second, _course = await _drift(db, world)
    other = await world.admin("Southside College")
    own = (await audited(client, admin.headers)).json()

    assert await audit_once(db) is True

    assert await scalar(db, "SELECT ok FROM audit_runs WHERE institution_id IS NULL") in (0, False)
    report = (await client.get(CONSISTENCY, headers=admin.headers)).json()
    assert (report["run_id"], report["scope"]) == (own["run_id"], "institution")
    latest = (await client.get(LATEST, headers=admin.headers)).json()
    assert (latest["id"], latest["scope"]) == (own["run_id"], "institution")
    assert (await client.get(LATEST, headers=other.headers)).status_code == 404
