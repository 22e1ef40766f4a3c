"""Reports to download: the admin's own institution only, filtered like the pages, formula
cells neutralised, XLSX that a spreadsheet library reads, rows read a page at a time."""

import csv
import io
from typing import Any

import httpx
import openpyxl

from tests.factories import Person, World
from tests.rows import rows

REPORTS = "/api/v1/admin/reports"


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
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


async def test_the_enrollments_report_lists_the_institutions_enrollments_with_progress(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug, "Ada")
    bob = await world.student(admin.institution_slug, '=HYPERLINK("http://evil")')
    intro = await world.course(admin, title="Intro")
    advanced = await world.course(admin, title="-Advanced")
    await _enroll(client, admin, ada, intro)
    await _enroll(client, admin, bob, advanced)
    other = await world.admin("Other School")
    stranger = await world.student(other.institution_slug, "Stranger")
    await _enroll(client, other, stranger, await world.course(other))

    table = _csv(await client.get(f"{REPORTS}/enrollments", headers=admin.headers))

    assert table[0][:3] == ["enrollment_id", "learner", "email"]
    body = {row[1]: row for row in table[1:]}
    assert set(body) == {"Ada", '\'=HYPERLINK("http://evil")'}
    assert body["Ada"][4:8] == ["Intro", "active", "admin", "0.0"]
    assert body['\'=HYPERLINK("http://evil")'][4] == "'-Advanced"


async def test_reports_filter_by_course_status_and_time(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug, "Ada")
    intro = await world.course(admin, title="Intro")
    advanced = await world.course(admin, title="Advanced")
    await _enroll(client, admin, ada, intro)
    await _enroll(client, admin, ada, advanced)
    enrolled = await rows(
        db=world.db, sql="SELECT id FROM enrollments WHERE course_id = :c", c=advanced["id"]
    )
    await client.delete(f"/api/v1/admin/enrollments/{enrolled[0]['id']}", headers=admin.headers)

    by_course = _csv(
        await client.get(
            f"{REPORTS}/enrollments", params={"course_id": intro["id"]}, headers=admin.headers
        )
    )
    cancelled = _csv(
        await client.get(
            f"{REPORTS}/enrollments", params={"status": "cancelled"}, headers=admin.headers
        )
    )
    future = _csv(
        await client.get(
            f"{REPORTS}/enrollments", params={"since": "2999-01-01"}, headers=admin.headers
        )
    )
    bad = await client.get(
        f"{REPORTS}/enrollments", params={"status": "nonsense"}, headers=admin.headers
    )

    assert [row[4] for row in by_course[1:]] == ["Intro"]
    assert [row[4] for row in cancelled[1:]] == ["Advanced"]
    assert future[1:] == []
    assert bad.status_code == 422


async def test_the_xlsx_report_opens_in_a_spreadsheet_library_with_formulas_as_text(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    mallory = await world.student(admin.institution_slug, "=1+1")
    course = await world.course(admin, title="Intro")
    await _enroll(client, admin, mallory, course)

    r = await client.get(f"{REPORTS}/enrollments", params={"format": "xlsx"}, headers=admin.headers)

    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0][:2] == ("enrollment_id", "learner") or table[0][:2] == [
        "enrollment_id",
        "learner",
    ]
    assert table[1][1] == "=1+1"
    cell = openpyxl.load_workbook(io.BytesIO(r.content)).active["B2"]  # type: ignore[index]
    assert cell.data_type == "s"


async def test_reports_are_for_admins_and_the_gradebook_for_their_own_courses(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    other = await world.admin("Other School")
    theirs = await world.course(other)

    as_student = await client.get(f"{REPORTS}/payments", headers=student.headers)
    their_gradebook = await client.get(
        f"{REPORTS}/courses/{theirs['id']}/gradebook", headers=admin.headers
    )

    assert as_student.status_code == 403
    assert their_gradebook.status_code == 404
