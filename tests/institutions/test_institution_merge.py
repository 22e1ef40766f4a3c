"""Merging duplicate institutions: one transaction moves everything, the duplicates' names and
slugs lead to the survivor, repeating it changes nothing, and only a platform admin may."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from lectern.audit.service import run_audit
from lectern.models.enums import Role
from lectern.platform.db import Database
from tests.conftest import LiveServer
from tests.factories import PASSWORD, Person, World
from tests.institutions.conftest import merge_path
from tests.rows import row_counts, rows, scalar


async def _register(client: httpx.AsyncClient, slug: str, email: str) -> httpx.Response:
    body = {"institution": slug, "email": email, "password": PASSWORD, "full_name": "New One"}
    return await client.post("/api/v1/auth/register", json=body)


async def test_merge_moves_people_courses_and_history_into_one_institution(
    world: World, client: httpx.AsyncClient, db: Database, platform: Person
) -> None:
    keep = await world.admin("ABC Academy")
    dup = await world.admin("A.B.C. Academy")
    kept_intro = await world.course(keep, title="Intro")
    kept_default = await world.course(keep, title="Welcome", access="default")
    dup_intro = await world.course(dup, title="Intro")
    dup_default = await world.course(dup, title="Orientation", access="default")
    old = await world.student(keep.institution_slug)
    newcomer = await world.student(dup.institution_slug)
    requested = await client.post(
        f"/api/v1/courses/{dup_intro['id']}/access-requests", headers=newcomer.headers
    )
    assert requested.status_code == 201

    response = await client.post(
        merge_path(keep), json={"duplicate_ids": [dup.institution_id]}, headers=platform.headers
    )

    assert response.status_code == 200, response.text
    merge = response.json()
    assert merge["institution"] == {
        "id": keep.institution_id,
        "name": "ABC Academy",
        "slug": "abc-academy",
    }
    assert merge["merged"] == [
        {"id": dup.institution_id, "name": "A.B.C. Academy", "slug": dup.institution_slug}
    ]
    assert merge["merged_now"] is True
    assert (merge["users_moved"], merge["courses_moved"]) == (2, 2)
    assert merge["renamed_courses"] == [
        {"id": dup_intro["id"], "title": "Intro", "slug": "intro-2"}
    ]
    assert merge["enrollments_created"] == 2
    assert (
        await scalar(db, "SELECT count(*) FROM institutions WHERE id = :i", i=dup.institution_id)
        == 0
    )
    assert {r["institution_id"] for r in await rows(db, "SELECT institution_id FROM users")} == {
        keep.institution_id,
        platform.institution_id,
    }
    slugs = await rows(
        db,
        "SELECT id, slug FROM courses WHERE institution_id = :i ORDER BY id",
        i=keep.institution_id,
    )
    assert [r["id"] for r in slugs] == [
        kept_intro["id"],
        kept_default["id"],
        dup_intro["id"],
        dup_default["id"],
    ]
    assert (
        await scalar(
            db, "SELECT count(*) FROM events WHERE institution_id = :i", i=dup.institution_id
        )
        == 0
    )
    # Each student now sits in the other side's default course too, as if registered in one.
    enrolled = await rows(
        db, "SELECT user_id, course_id, source FROM enrollments ORDER BY user_id, course_id"
    )
    assert {(r["user_id"], r["course_id"]) for r in enrolled} == {
        (old.id, kept_default["id"]),
        (old.id, dup_default["id"]),
        (newcomer.id, kept_default["id"]),
        (newcomer.id, dup_default["id"]),
    }
    merged_event = await rows(
        db, "SELECT institution_id, audience FROM events WHERE type = 'institution.merged'"
    )
    assert merged_event == [{"institution_id": keep.institution_id, "audience": "admins"}]

    # The duplicate's admin now runs the merged institution and sees the moved request.
    me = await client.get("/api/v1/me", headers=dup.headers)
    assert me.json()["institution"]["id"] == keep.institution_id
    queue = await client.get("/api/v1/admin/access-requests?status=pending", headers=dup.headers)
    assert [r["user_id"] for r in queue.json()] == [newcomer.id]
    async with db.session() as session:
        assert (await run_audit(session)).ok


async def test_merged_names_and_slugs_lead_to_the_survivor(
    world: World, client: httpx.AsyncClient, db: Database, platform: Person
) -> None:
    keep = await world.admin("Harbor School")
    dup = await world.admin("Harbour School")
    await client.post(
        merge_path(keep), json={"duplicate_ids": [dup.institution_id]}, headers=platform.headers
    )

    registered = await _register(client, dup.institution_slug, "late@example.test")
    assert registered.status_code == 201, registered.text
    assert registered.json()["institution_id"] == keep.institution_id
    # create-admin with the old name joins the survivor instead of bringing the duplicate back.
    again = await world.admin("  harbour   SCHOOL ")
    assert again.institution_id == keep.institution_id
    assert await scalar(db, "SELECT count(*) FROM institutions WHERE name_key LIKE 'harb%'") == 1
    listed = await client.get("/api/v1/platform/institutions", headers=platform.headers)
    harbor = next(i for i in listed.json() if i["id"] == keep.institution_id)
    assert harbor["merged_names"] == ["Harbour School"]
    assert (harbor["users"], harbor["courses"]) == (4, 0)


async def test_merging_again_changes_nothing(
    world: World, client: httpx.AsyncClient, db: Database, platform: Person
) -> None:
    keep = await world.admin("Delta College")
    dup = await world.admin("Delta College Inc")
    await world.course(dup, title="Statistics")
    body = {"duplicate_ids": [dup.institution_id]}
    first = await client.post(merge_path(keep), json=body, headers=platform.headers)
    before = await row_counts(db)

    second = await client.post(merge_path(keep), json=body, headers=platform.headers)

    assert second.status_code == 200, second.text
    assert second.json()["merged"] == first.json()["merged"]
    assert second.json()["merged_now"] is False
    assert (second.json()["users_moved"], second.json()["courses_moved"]) == (0, 0)
    assert await row_counts(db) == before


async def test_a_chain_of_merges_leads_to_the_last_survivor(
    world: World, client: httpx.AsyncClient, platform: Person
) -> None:
    first = await world.admin("Oak Institute")
    second = await world.admin("Oak Institute Ltd")
    third = await world.admin("The Oak Institute")
    for into, dup in ((second, first), (third, second)):
        response = await client.post(
            merge_path(into), json={"duplicate_ids": [dup.institution_id]}, headers=platform.headers
        )
        assert response.status_code == 200, response.text

    for slug in (first.institution_slug, second.institution_slug):
        registered = await _register(client, slug, f"via-{slug}@example.test")
        assert registered.json()["institution_id"] == third.institution_id


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"duplicate_ids": []}, 422),
        ({"duplicate_ids": ["2"]}, 422),
        ({"duplicate_ids": [1], "extra": True}, 422),
        ({}, 422),
        ({"duplicate_ids": [2_147_483_647]}, 404),
    ],
)
async def test_bad_merge_requests_answer_4xx_and_change_nothing(
    world: World, client: httpx.AsyncClient, db: Database, platform: Person, body: Any, status: int
) -> None:
    keep = await world.admin("Elm Academy")
    await world.admin("Elm Academy 2")
    before = await row_counts(db)
    response = await client.post(merge_path(keep), json=body, headers=platform.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await row_counts(db) == before


async def test_only_a_platform_admin_merges_and_ids_must_name_two_institutions(
    world: World, client: httpx.AsyncClient, db: Database, platform: Person
) -> None:
    keep = await world.admin("Pine Academy")
    dup = await world.admin("Pine Academy Online")
    student = await world.student(keep.institution_slug)
    instructor = await world.admin("Pine Academy", role=Role.INSTRUCTOR)
    body = {"duplicate_ids": [dup.institution_id]}
    before = await row_counts(db)

    for caller in (keep, dup, student, instructor):
        forbidden = await client.post(merge_path(keep), json=body, headers=caller.headers)
        assert forbidden.status_code == 403, caller
        listing = await client.get("/api/v1/platform/institutions", headers=caller.headers)
        assert listing.status_code == 403
    assert (await client.post(merge_path(keep), json=body)).status_code == 401
    itself = {"duplicate_ids": [keep.institution_id]}
    assert (
        await client.post(merge_path(keep), json=itself, headers=platform.headers)
    ).status_code == 422
    unknown_into = await client.post(merge_path(2_147_483_000), json=body, headers=platform.headers)
    assert unknown_into.status_code == 404
    assert await row_counts(db) == before


AT_ONCE = 40


async def _at_once(
    server: LiveServer, send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=AT_ONCE, max_keepalive_connections=AT_ONCE)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as http:
        return list(await asyncio.gather(*(send(http, i) for i in range(AT_ONCE))))


@pytest.mark.postgres_only
async def test_registrations_and_courses_racing_a_merge_all_land_in_the_survivor(
    world: World, db: Database, platform: Person, live_server: LiveServer
) -> None:
    keep = await world.admin("Maple College")
    dup = await world.admin("Maple College Online")
    body = {"duplicate_ids": [dup.institution_id]}

    async def send(http: httpx.AsyncClient, i: int) -> httpx.Response:
        if i == AT_ONCE // 2:
            return await http.post(merge_path(keep), json=body, headers=platform.headers)
        if i % 5 == 0:
            course = {"title": f"Race {i}", "status": "published", "access": "open"}
            return await http.post("/api/v1/courses", json=course, headers=dup.headers)
        return await _register(http, dup.institution_slug, f"racer{i}@example.test")

    responses = await _at_once(live_server, send)

    statuses = [r.status_code for r in responses]
    assert all(status < 500 for status in statuses), [
        r.text for r in responses if r.status_code >= 500
    ]
    assert statuses[AT_ONCE // 2] == 200
    assert all(s in (201, 409) for i, s in enumerate(statuses) if i % 5 == 0 and i != AT_ONCE // 2)
    assert all(s == 201 for i, s in enumerate(statuses) if i % 5 and i != AT_ONCE // 2)
    assert (
        await scalar(db, "SELECT count(*) FROM institutions WHERE id = :i", i=dup.institution_id)
        == 0
    )
    racers = await rows(db, "SELECT DISTINCT institution_id FROM users WHERE email LIKE 'racer%'")
    assert racers == [{"institution_id": keep.institution_id}]
    async with db.session() as session:
        assert (await run_audit(session)).ok


@pytest.mark.postgres_only
async def test_simultaneous_identical_merges_merge_once(
    world: World, db: Database, platform: Person, live_server: LiveServer
) -> None:
    keep = await world.admin("Cedar School")
    dups = [await world.admin(f"Cedar School {n}") for n in range(3)]
    body = {"duplicate_ids": [d.institution_id for d in dups]}

    responses = await _at_once(
        live_server,
        lambda http, _i: http.post(merge_path(keep), json=body, headers=platform.headers),
    )

    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["merged_now"] for r in responses) == 1
    assert await scalar(db, "SELECT count(*) FROM events WHERE type = 'institution.merged'") == 1
    assert await scalar(db, "SELECT count(*) FROM institution_merges") == 3
