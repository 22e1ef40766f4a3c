"""Course staff download the reports of the courses whose learners they may see: the
enrollments, certificates and gradebook of their own courses, nothing of another course of
their institution or of another institution (404, as an unknown course), and no payments."""

import csv
import io
from typing import Any

import httpx
import pytest

from lectern.models.enums import Role
from tests.factories import Person, World

REPORTS = "/api/v1/admin/reports"


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _enroll(
    client: httpx.AsyncClient, admin: Person, student: Person, course: dict[str, Any]
) -> None:
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("course_role", ["instructor", "ta", "observer"])
async def test_course_staff_read_their_courses_reports_and_nothing_else(
    world: World, client: httpx.AsyncClient, course_role: str
) -> None:
    admin = await world.admin()
    staff = await world.admin(role=Role.INSTRUCTOR)
    ada, bob = [await world.student(admin.institution_slug) for _ in range(2)]
    mine = await world.course(admin, title="Mine")
    other = await world.course(admin, title="Other")
    await world.make_staff(admin, mine, staff, course_role)
    await _enroll(client, admin, ada, mine)
    await _enroll(client, admin, bob, other)
    elsewhere = await world.admin("Elsewhere College")
    theirs = await world.course(elsewhere, title="Theirs")

    enrollments = _csv(await client.get(f"{REPORTS}/enrollments", headers=staff.headers))
    filtered = _csv(
        await client.get(
            f"{REPORTS}/enrollments", params={"course_id": mine["id"]}, headers=staff.headers
        )
    )
    gradebook = _csv(
        await client.get(f"{REPORTS}/courses/{mine['id']}/gradebook", headers=staff.headers)
    )
    certificates = _csv(await client.get(f"{REPORTS}/certificates", headers=staff.headers))

    assert [(row[2], row[4]) for row in enrollments[1:]] == [(ada.email, "Mine")]
    assert filtered == enrollments
    assert [row[1] for row in gradebook[1:]] == [ada.email]
    assert certificates == [["code", "learner", "email", "course_id", "course", "issued_at"]]
    for course in (other, theirs):
        as_filter = await client.get(
            f"{REPORTS}/enrollments", params={"course_id": course["id"]}, headers=staff.headers
        )
        its_gradebook = await client.get(
            f"{REPORTS}/courses/{course['id']}/gradebook", headers=staff.headers
        )
        unknown = await client.get(f"{REPORTS}/courses/999999/gradebook", headers=staff.headers)
        assert as_filter.status_code == its_gradebook.status_code == 404, as_filter.text
        assert its_gradebook.json()["type"] == unknown.json()["type"]
        assert its_gradebook.json()["detail"] == unknown.json()["detail"]
    payments = await client.get(f"{REPORTS}/payments", headers=staff.headers)
    assert payments.status_code == 403
    assert payments.headers["content-type"].startswith("application/problem+json")


async def test_an_instructor_of_no_course_gets_empty_reports_and_an_admin_every_course(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    idle = await world.admin(role=Role.INSTRUCTOR)
    ada = await world.student(admin.institution_slug)
    for title in ("One", "Two"):
        await _enroll(client, admin, ada, await world.course(admin, title=title))

    as_idle = _csv(await client.get(f"{REPORTS}/enrollments", headers=idle.headers))
    as_admin = _csv(await client.get(f"{REPORTS}/enrollments", headers=admin.headers))

    assert as_idle[1:] == []
    assert sorted(row[4] for row in as_admin[1:]) == ["One", "Two"]


async def test_a_student_reads_no_report(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug)
    course = await world.course(admin)
    await _enroll(client, admin, ada, course)

    for path in ("enrollments", "certificates", f"courses/{course['id']}/gradebook"):
        r = await client.get(f"{REPORTS}/{path}", headers=ada.headers)
        assert r.status_code == 403, (path, r.text)
