"""The audit finds drift made behind the commands' back, and repair undoes it, once."""

from typing import Any

import httpx
from sqlalchemy import delete, func, insert, select, update

from lectern.audit.schedule import audit_once
from lectern.models import (
    AccessRequest,
    Certificate,
    Enrollment,
    Event,
    QbankQuestion,
    StudentProfile,
)
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.audit.recorded import audited
from tests.factories import Person, World


async def _report(client: httpx.AsyncClient, admin: Person) -> dict[str, int]:
    response = await audited(client, admin.headers)
    assert response.status_code == 200, response.text
    return {f["name"]: f["count"] for f in response.json()["findings"]}


async def _repair(client: httpx.AsyncClient, admin: Person, body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/admin/consistency/repair", json=body, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _drift(db: Database, world: World) -> tuple[Person, Person, dict[str, Any]]:
    """Two students in one course, then three hand edits that break three invariants."""
    admin = await world.admin()
    first = await world.student(admin.institution_slug)
    second = await world.student(admin.institution_slug)
    course = await world.course(
        admin, qbank=[{"prompt": "2+2?", "choices": ["3", "4"], "answer": 1, "topic": "math"}]
    )
    client = world.client
    url = f"/api/v1/courses/{course['id']}/access-requests"
    approved = (await client.post(url, headers=first.headers)).json()
    await client.post(
        f"/api/v1/admin/access-requests/{approved['id']}/approve", headers=admin.headers
    )
    await client.post(url, headers=second.headers)
    async with db.engine.begin() as connection:
        # An approved request whose enrollment vanished, as a bad restore would leave it.
        await connection.execute(delete(Enrollment).where(Enrollment.user_id == first.id))
        # A pending request beside an enrollment, as a hand insert would leave it.
        await connection.execute(
            insert(Enrollment).values(
                user_id=second.id,
                course_id=course["id"],
                status="active",
                source="import",
                progress=0,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        await connection.execute(delete(StudentProfile).where(StudentProfile.user_id == second.id))
        await connection.execute(update(QbankQuestion).values(attempts=7, correct=3))
    return admin, second, course


async def test_audit_reports_each_violation_and_repair_fixes_them_once(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin, second, _course = await _drift(db, world)
    found = await _report(client, admin)
    assert found == {
        "pending_requests_beside_enrollments": 1,
        "approved_requests_without_enrollment": 1,
        "paid_without_enrollment": 0,
        "active_past_their_end": 0,
        "stale_progress": 0,
        "completed_without_certificate": 0,
        "students_without_profile": 1,
        "institutions_sharing_a_name": 0,
        "qbank_statistics_off": 1,
        # The tallies count hand edits as the commands' changes: triggers keep them.
        "course_tallies_off": 0,
        "learner_tallies_off": 0,
        "progress_buckets_off": 0,
        "completion_days_off": 0,
        "institution_tallies_off": 0,
    }

    async with db.session() as session:
        events_before = await session.scalar(select(func.count()).select_from(Event))
    dry = await _repair(client, admin, {"dry_run": True})
    assert dry["dry_run"] is True
    assert not dry["ok"]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == events_before
    assert await _report(client, admin) == found

    applied = await _repair(client, admin, {"dry_run": False})
    assert sum(f["repaired"] for f in applied["findings"]) == 4
    assert all(count == 0 for count in (await _report(client, admin)).values())
    async with db.session() as session:
        repaired_events = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "audit.repaired")
        )
        pending = await session.scalar(
            select(func.count())
            .select_from(AccessRequest)
            .where(AccessRequest.user_id == second.id, AccessRequest.status == "pending")
        )
    assert repaired_events == 4
    assert pending == 0

    again = await _repair(client, admin, {"dry_run": False})
    assert again["ok"]
    assert sum(f["repaired"] for f in again["findings"]) == 0


async def test_an_admin_sees_only_their_institutions_drift(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    await _drift(db, world)
    other_admin = await world.admin("Southside College")
    assert all(count == 0 for count in (await _report(client, other_admin)).values())
    assert await audit_once(db) is True


async def test_students_cannot_read_the_audit(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    response = await client.get("/api/v1/admin/consistency", headers=student.headers)
    assert response.status_code == 403
    response = await client.post(
        "/api/v1/admin/consistency/repair", json={"dry_run": "no"}, headers=admin.headers
    )
    assert response.status_code == 422


async def _read(client: httpx.AsyncClient, student: Person, lesson_id: int) -> None:
    response = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": lesson_id}]},
        headers=student.headers,
    )
    assert response.json()["results"][0]["accepted"], response.text


async def test_audit_recomputes_hand_edited_progress_and_reissues_a_lost_certificate(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    finisher = await world.student(admin.institution_slug)
    halfway = await world.student(admin.institution_slug)
    readings = [{"title": f"Reading {n}", "kind": "reading", "body": "Text."} for n in (1, 2)]
    course = await world.course(
        admin, access="open", chapters=[{"title": "One", "lessons": readings}]
    )
    lessons = [lesson["id"] for lesson in course["chapters"][0]["lessons"]]
    for student in (finisher, halfway):
        enrolled = await client.post(
            f"/api/v1/courses/{course['id']}/enroll", headers=student.headers
        )
        assert enrolled.status_code == 201
    for lesson_id in lessons:
        await _read(client, finisher, lesson_id)
    await _read(client, halfway, lessons[0])
    async with db.engine.begin() as connection:
        await connection.execute(delete(Certificate).where(Certificate.user_id == finisher.id))
        await connection.execute(
            update(Enrollment).where(Enrollment.user_id == halfway.id).values(progress=10.0)
        )

    found = await _report(client, admin)
    assert found["stale_progress"] == 1
    assert found["completed_without_certificate"] == 1

    await _repair(client, admin, {"dry_run": False})
    assert all(count == 0 for count in (await _report(client, admin)).values())
    async with db.session() as session:
        progress = await session.scalar(
            select(Enrollment.progress).where(Enrollment.user_id == halfway.id)
        )
        certificates = await session.scalar(
            select(func.count()).select_from(Certificate).where(Certificate.user_id == finisher.id)
        )
    assert progress == 50.0
    assert certificates == 1
