"""POST /api/v1/admin/enrollments/import: the dry run says per row what would happen and
writes nothing; applying runs the enrollment commands for the whole file or for none of it."""

from typing import Any

import httpx

from lectern.platform.db import Database
from tests.factories import Person, World
from tests.rows import event_types, last_event_id, row_counts, rows

IMPORT = "/api/v1/admin/enrollments/import"


async def _post(
    client: httpx.AsyncClient, admin: Person, csv: str | bytes, *, apply: bool = False
) -> httpx.Response:
    body = csv.encode() if isinstance(csv, str) else csv
    return await client.post(
        IMPORT,
        params={"dry_run": str(not apply).lower()},
        content=body,
        headers={**admin.headers, "Content-Type": "text/csv"},
    )


async def _school(world: World) -> tuple[Person, list[Person], dict[str, Any], dict[str, Any]]:
    admin = await world.admin()
    students = [await world.student(admin.institution_slug) for _ in range(3)]
    intro = await world.course(admin, title="Intro")
    advanced = await world.course(admin, title="Advanced")
    return admin, students, intro, advanced


async def _enrollments(db: Database) -> list[tuple[int, int, str, str]]:
    found = await rows(
        db, "SELECT user_id, course_id, status, source FROM enrollments ORDER BY user_id, course_id"
    )
    return [(r["user_id"], r["course_id"], r["status"], r["source"]) for r in found]


async def test_the_dry_run_says_per_row_what_would_happen_and_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (ada, bob, cy), intro, advanced = await _school(world)
    await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": ada.id, "course_id": intro["id"]},
        headers=admin.headers,
    )
    enrolled = await rows(db, "SELECT id FROM enrollments WHERE user_id = :u", u=ada.id)
    await client.delete(f"/api/v1/admin/enrollments/{enrolled[0]['id']}", headers=admin.headers)
    await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": bob.id, "course_id": intro["id"]},
        headers=admin.headers,
    )
    before = await row_counts(db)
    csv = (
        "email,course,action,full_name\n"
        f"{ada.email},{intro['slug']},enroll,\n"
        f"{bob.email},{intro['id']},enroll,\n"
        f"{cy.email},{advanced['slug']},enroll,\n"
        f"{bob.email},{intro['slug']},unenroll,\n"
        f"{cy.email},{intro['slug']},unenroll,\n"
        f"new.learner@example.test,{intro['slug']},enroll,New Learner\n"
        f"nobody@example.test,{intro['slug']},enroll,\n"
    )

    r = await _post(client, admin, csv)

    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is True
    assert report["ok"] is False
    assert [(row["line"], row["outcome"]) for row in report["rows"]] == [
        (2, "reactivate"),
        (3, "already-enrolled"),
        (4, "enroll"),
        (5, "error"),
        (6, "not-enrolled"),
        (7, "invite"),
        (8, "error"),
    ]
    reasons = [row["reason"] for row in report["rows"]]
    assert "repeats line 3" in reasons[3]
    assert "give full_name to invite them" in reasons[6]
    assert report["outcomes"]["error"] == 2
    assert await row_counts(db) == before


async def test_applying_runs_each_row_as_its_command_in_one_go_and_again_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (ada, bob, _), intro, advanced = await _school(world)
    await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": bob.id, "course_id": advanced["id"]},
        headers=admin.headers,
    )
    start = await last_event_id(db)
    csv = (
        "email;course;action;full_name\r\n"
        f"{ada.email};{intro['slug']};enroll;\r\n"
        f"{bob.email};{advanced['id']};unenroll;\r\n"
        f'New.Learner@Example.test;{intro["slug"]};enroll;"Learner, New"\r\n'
    )

    r = await _post(client, admin, csv, apply=True)

    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is False
    assert r.json()["ok"] is True
    invited = await rows(
        db,
        "SELECT id, full_name, password_hash, role FROM users WHERE email_key = :key",
        key="new.learner@example.test",
    )
    assert [(u["full_name"], u["password_hash"], u["role"]) for u in invited] == [
        ("Learner, New", "!no-password", "student")
    ]
    assert await _enrollments(db) == sorted(
        [
            (ada.id, intro["id"], "active", "admin"),
            (bob.id, advanced["id"], "cancelled", "admin"),
            (invited[0]["id"], intro["id"], "active", "admin"),
        ]
    )
    types = await event_types(db, start)
    assert types.count("enrollment.created") == 2
    assert types.count("enrollment.cancelled") == 1
    assert types.count("user.registered") == 1
    assert types[-1] == "enrollment.imported"
    imported = await rows(db, "SELECT payload FROM events WHERE type = 'enrollment.imported'")
    assert len(imported) == 1
    login = await client.post(
        "/api/v1/auth/login", json={"email": "new.learner@example.test", "password": "!no-password"}
    )
    assert login.status_code == 401

    before = await row_counts(db)
    again = await _post(client, admin, csv, apply=True)

    assert again.status_code == 200, again.text
    assert [row["outcome"] for row in again.json()["rows"]] == [
        "already-enrolled",
        "not-enrolled",
        "already-enrolled",
    ]
    after = await row_counts(db)
    assert {t: n for t, n in after.items() if t != "events"} == {
        t: n for t, n in before.items() if t != "events"
    }
    assert await event_types(db, await last_event_id(db) - 1) == ["enrollment.imported"]


async def test_a_file_with_a_bad_row_applies_nothing_and_reports_the_row(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (ada, bob, cy), intro, _ = await _school(world)
    before = await row_counts(db)
    csv = (
        "email,course,action,ends_at\n"
        f"{ada.email},{intro['slug']},enroll,\n"
        f"{bob.email},no-such-course,enroll,\n"
        f"{cy.email},{intro['slug']},enroll,someday\n"
        f"{ada.email},{intro['id']},enroll,\n"
    )

    r = await _post(client, admin, csv, apply=True)

    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/roster-invalid")
    assert [(row["line"], row["outcome"]) for row in problem["rows"]] == [
        (3, "error"),
        (4, "error"),
        (5, "error"),
    ]
    assert "not one of this institution's courses" in problem["rows"][0]["reason"]
    assert "not an ISO 8601 date" in problem["rows"][1]["reason"]
    assert "repeats line 2" in problem["rows"][2]["reason"]
    assert await row_counts(db) == before


async def test_a_file_that_cannot_be_read_is_refused_with_a_clear_problem(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    before = await row_counts(db)

    latin1 = await _post(
        client,
        admin,
        "email,course,action\nzoë@example.test,x,enroll\n".encode("latin-1"),
        apply=True,
    )
    no_action = await _post(client, admin, "email,course\nzoe@example.test,x\n")
    empty = await _post(client, admin, b"")

    assert (latin1.status_code, latin1.json()["type"].rsplit("/", 1)[1]) == (
        422,
        "roster-unreadable",
    )
    assert "not UTF-8" in latin1.json()["detail"]
    assert no_action.status_code == 422
    assert "lacks the column action" in no_action.json()["detail"]
    assert empty.status_code == 422
    assert await row_counts(db) == before


async def test_another_institutions_learner_and_course_are_errors_not_enrollments(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (ada, _, _), intro, _ = await _school(world)
    other_admin = await world.admin("Other School")
    stranger = await world.student(other_admin.institution_slug)
    theirs = await world.course(other_admin)
    csv = (
        "email,course,action\n"
        f"{stranger.email},{intro['slug']},enroll\n"
        f"{ada.email},{theirs['id']},enroll\n"
    )

    r = await _post(client, admin, csv)

    assert [row["outcome"] for row in r.json()["rows"]] == ["error", "error"]
    assert "not a student here" in r.json()["rows"][0]["reason"]
    assert "not one of this institution's courses" in r.json()["rows"][1]["reason"]


async def test_a_student_cannot_import(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)

    r = await _post(client, student, "email,course,action\na@example.test,x,enroll\n")

    assert r.status_code == 403


async def test_a_multipart_upload_is_read_as_the_file_it_carries(
    world: World, client: httpx.AsyncClient
) -> None:
    admin, (ada, _, _), intro, _ = await _school(world)
    data = f"\ufeffemail,course,action\r\n{ada.email},{intro['slug']},enroll\r\n".encode()

    r = await client.post(
        IMPORT,
        files={"file": ("term.csv", data, "text/csv")},
        headers=admin.headers,
    )

    assert r.status_code == 200, r.text
    assert (r.json()["filename"], r.json()["rows"][0]["outcome"]) == ("term.csv", "enroll")


async def test_a_hundred_thousand_rows_are_previewed_past_the_json_body_limit(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    lines = (
        f"learner{n}@example.test,{course['slug']},enroll,Learner {n}\n" for n in range(100_000)
    )
    data = ("email,course,action,full_name\n" + "".join(lines)).encode()
    assert len(data) > 1024 * 1024

    r = await _post(client, admin, data)

    assert r.status_code == 200, r.text
    assert r.json()["outcomes"]["invite"] == 100_000


async def test_a_body_over_the_roster_limit_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    limit = client._transport.app.state.settings.max_roster_bytes  # type: ignore[attr-defined]

    r = await _post(client, admin, b"x" * (limit + 1))

    assert r.status_code == 413


async def test_ends_at_is_the_enrollments_end_and_a_full_course_refuses_the_rows_past_it(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin, (ada, bob, cy), intro, _ = await _school(world)
    small = await world.course(admin, title="Small", seat_limit=2)
    await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": cy.id, "course_id": small["id"]},
        headers=admin.headers,
    )
    csv = (
        "email,course,action,ends_at\n"
        f"{ada.email},{intro['slug']},enroll,2099-06-30T12:00:00Z\n"
        f"{ada.email},{small['slug']},enroll,\n"
        f"{bob.email},{small['slug']},enroll,\n"
    )

    preview = await _post(client, admin, csv)

    assert [row["outcome"] for row in preview.json()["rows"]] == ["enroll", "enroll", "error"]
    assert "until 2099-06-30 12:00 UTC" in preview.json()["rows"][0]["reason"]
    assert "'Small' has no seat left (limit 2)" in preview.json()["rows"][2]["reason"]

    applied = await _post(client, admin, csv.rsplit("\n", 2)[0] + "\n", apply=True)

    assert applied.status_code == 200, applied.text
    ends = await rows(
        db, "SELECT ends_at FROM enrollments WHERE user_id = :u AND course_id = :c",
        u=ada.id, c=intro["id"],
    )  # fmt: skip
    assert str(ends[0]["ends_at"]).startswith("2099-06-30 12:00")


async def test_a_broken_multipart_upload_is_a_bad_request_and_one_without_the_file_invalid(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()

    no_boundary = await client.post(
        IMPORT,
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n--xyz--\r\n',
        headers={**admin.headers, "Content-Type": "multipart/form-data"},
    )
    no_file = await client.post(IMPORT, files={"other": (None, "field")}, headers=admin.headers)

    assert no_boundary.status_code == 400, no_boundary.text
    assert no_boundary.json()["type"].endswith("/bad-upload")
    assert no_file.status_code == 422, no_file.text
    assert "form field `file`" in no_file.json()["detail"]
