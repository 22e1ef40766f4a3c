"""Courses: create, read, update, the catalog with the caller's state, status parsing, archiving."""

import httpx
import pytest

from lectern.courses.rules import parse_status
from lectern.institutions.rules import normalize_name
from lectern.institutions.service import get_or_create_institution
from lectern.platform.db import Database
from tests.factories import World
from tests.rows import event_types, last_event_id, row_counts, rows, scalar

OUTLINE = [
    {
        "title": "Basics",
        "lessons": [
            {"title": "Intro", "kind": "video", "duration_s": 120, "video_url": "https://v.test/1"},
            {
                "title": "Check",
                "kind": "quiz",
                "pass_mark": 0.5,
                "questions": [{"prompt": "2+2?", "choices": ["3", "4"], "answer": 1}],
            },
        ],
    },
    {"title": "More", "lessons": [{"title": "Notes", "kind": "reading", "body": "# Hi"}]},
]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Published", "published"),
        (" ACTIVE ", "published"),
        ("draft", "draft"),
        ("Archived", "archived"),
    ],
)
async def test_course_status_is_stored_canonical(
    world: World, client: httpx.AsyncClient, db: Database, given: str, stored: str
) -> None:
    admin = await world.admin()
    course = await world.course(admin, status=given)
    assert course["status"] == stored
    assert await scalar(db, "SELECT status FROM courses WHERE id = :c", c=course["id"]) == stored


async def test_unknown_course_status_is_422_and_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    before = await row_counts(db)
    created = await client.post(
        "/api/v1/courses", json={"title": "X", "status": "banana"}, headers=admin.headers
    )
    updated = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"status": "banana"}, headers=admin.headers
    )
    listed = await client.get("/api/v1/courses?status=banana", headers=admin.headers)
    for r in (created, updated, listed):
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before


def test_status_rule_parses_aliases_and_refuses_the_rest() -> None:
    assert parse_status("Published") == "published"
    assert parse_status(" ACTIVE ") == "published"
    assert parse_status("draft") == "draft"
    for bad in ("banana", "", 3):
        with pytest.raises(ValueError, match="status"):
            parse_status(bad)


def test_institution_names_normalize_to_one_key() -> None:
    assert normalize_name("ABC Academy") == normalize_name("  abc   ACADEMY ") == "abc academy"


async def test_institution_service_finds_one_institution_by_normalized_name(db: Database) -> None:
    first = await db.run(lambda s: get_or_create_institution(s, "ABC Academy"))
    second = await db.run(lambda s: get_or_create_institution(s, "  abc   ACADEMY "))
    assert second.id == first.id
    assert (first.name, first.slug) == ("ABC Academy", "abc-academy")
    assert await scalar(db, "SELECT count(*) FROM institutions") == 1


async def test_create_course_with_outline_and_read_it(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    start = await last_event_id(db)
    r = await client.post(
        "/api/v1/courses",
        json={
            "title": "Anatomy",
            "status": "published",
            "access": "paid",
            "price_cents": 4900,
            "currency": "EUR",
            "chapters": OUTLINE,
        },
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    course = r.json()
    assert {
        k: course[k] for k in ("title", "slug", "status", "access", "price_cents", "currency")
    } == {
        "title": "Anatomy",
        "slug": "anatomy",
        "status": "published",
        "access": "paid",
        "price_cents": 4900,
        "currency": "eur",
    }
    assert course["institution_id"] == admin.institution_id
    assert [c["title"] for c in course["chapters"]] == ["Basics", "More"]
    assert [
        (lesson["kind"], lesson["position"]) for lesson in course["chapters"][0]["lessons"]
    ] == [
        ("video", 0),
        ("quiz", 1),
    ]
    assert await event_types(db, start) == ["course.created"]

    student = await world.student(admin.institution_slug)
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    seen = (await client.get(f"/api/v1/courses/{course['id']}", headers=student.headers)).json()
    quiz = seen["chapters"][0]["lessons"][1]
    assert quiz["questions"] == [{"prompt": "2+2?", "choices": ["3", "4"], "answer": None}]
    staff_view = (await client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)).json()
    assert staff_view["chapters"][0]["lessons"][1]["questions"][0]["answer"] == 1
    second = await world.course(admin, title="Anatomy")
    assert second["slug"] == "anatomy-2"


async def test_students_cannot_create_or_update_courses(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    student = await world.student(admin.institution_slug)
    before = await row_counts(db)
    created = await client.post("/api/v1/courses", json={"title": "Mine"}, headers=student.headers)
    updated = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"title": "Mine"}, headers=student.headers
    )
    assert (created.status_code, updated.status_code) == (403, 403)
    assert await row_counts(db) == before


async def test_update_changes_fields_and_repeating_it_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin, status="draft")
    start = await last_event_id(db)
    change = {"title": "Renamed", "status": "Active", "access": "open"}

    r = await client.patch(f"/api/v1/courses/{course['id']}", json=change, headers=admin.headers)

    assert r.status_code == 200, r.text
    assert (r.json()["title"], r.json()["status"], r.json()["access"]) == (
        "Renamed",
        "published",
        "open",
    )
    # Learners' open catalogs hear of it too.
    assert await event_types(db, start) == ["course.published", "catalog.changed"]
    before = await row_counts(db)
    again = await client.patch(
        f"/api/v1/courses/{course['id']}", json=change, headers=admin.headers
    )
    assert again.status_code == 200
    assert again.json() == r.json()
    assert await row_counts(db) == before


async def test_paid_course_needs_a_price(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    before = await row_counts(db)
    created = await client.post(
        "/api/v1/courses", json={"title": "Sold", "access": "paid"}, headers=admin.headers
    )
    updated = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"access": "paid"}, headers=admin.headers
    )
    assert created.status_code == 422
    assert updated.status_code == 422
    assert await row_counts(db) == before


async def test_catalog_carries_the_callers_enrollment_and_request_status(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    other = await world.student(admin.institution_slug)
    approval = await world.course(admin, title="A approval")
    open_course = await world.course(admin, title="B open", access="open")
    rejected = await world.course(admin, title="C rejected")
    untouched = await world.course(admin, title="D untouched")
    await world.course(admin, title="E draft", status="draft")
    await client.post(f"/api/v1/courses/{approval['id']}/access-requests", headers=student.headers)
    await client.post(f"/api/v1/courses/{open_course['id']}/enroll", headers=student.headers)
    asked = await client.post(
        f"/api/v1/courses/{rejected['id']}/access-requests", headers=student.headers
    )
    await client.post(
        f"/api/v1/admin/access-requests/{asked.json()['id']}/reject", headers=admin.headers
    )
    await client.post(f"/api/v1/courses/{untouched['id']}/access-requests", headers=other.headers)

    catalog = (await client.get("/api/v1/courses", headers=student.headers)).json()

    assert [(c["title"], c["enrollment_status"], c["request_status"]) for c in catalog] == [
        ("A approval", None, "pending"),
        ("B open", "active", None),
        ("C rejected", None, "rejected"),
        ("D untouched", None, None),
    ]
    staff = (await client.get("/api/v1/courses", headers=admin.headers)).json()
    assert len(staff) == 5
    drafts = (await client.get("/api/v1/courses?status=Draft", headers=admin.headers)).json()
    assert [c["title"] for c in drafts] == ["E draft"]


async def test_students_do_not_see_drafts(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    draft = await world.course(admin, status="draft")
    assert (
        await client.get(f"/api/v1/courses/{draft['id']}", headers=student.headers)
    ).status_code == 404
    r = await client.post(f"/api/v1/courses/{draft['id']}/access-requests", headers=student.headers)
    assert r.status_code == 404


async def test_course_with_enrollments_cannot_be_deleted_only_archived(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="open", chapters=OUTLINE)
    await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    before = await row_counts(db)

    refused = await client.delete(f"/api/v1/courses/{course['id']}", headers=admin.headers)

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("course-in-use")
    assert await row_counts(db) == before
    archived = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"status": "archived"}, headers=admin.headers
    )
    assert archived.status_code == 200
    catalog = (await client.get("/api/v1/courses", headers=student.headers)).json()
    assert course["id"] not in [c["id"] for c in catalog]
    mine = (await client.get("/api/v1/me/enrollments", headers=student.headers)).json()
    assert [(e["course_id"], e["status"], e["course_status"]) for e in mine] == [
        (course["id"], "active", "archived")
    ]
    assert (
        await client.get(f"/api/v1/courses/{course['id']}", headers=student.headers)
    ).status_code == 200
    newcomer = await world.student(admin.institution_slug)
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=newcomer.headers)
    assert r.status_code == 409
    assert r.json()["type"].endswith("course-archived")


async def test_course_without_learners_is_deleted_with_its_outline(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin, chapters=OUTLINE)
    r = await client.delete(f"/api/v1/courses/{course['id']}", headers=admin.headers)
    assert r.status_code == 204
    for table in ("courses", "chapters", "lessons"):
        assert await rows(db, f"SELECT * FROM {table}") == []  # noqa: S608
    assert (
        await client.delete(f"/api/v1/courses/{course['id']}", headers=admin.headers)
    ).status_code == 404
