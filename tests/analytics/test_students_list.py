"""The admin's students list: keyset pages that miss and repeat no one while students arrive,
a search by part of a name or an e-mail in any case, and the orders an index serves."""

import re
from typing import Any

import httpx
import pytest

from tests.factories import Person, World

NAMES = ["Zoe Park", "Ann Lee", "Bob Stone", "Carla Diaz", "Dave Kim", "Eve Moss", "Finn Ray"]


def _next(response: httpx.Response) -> str | None:
    found = re.search(r'<([^>]*)>;\s*rel="next"', response.headers.get("link", ""))
    return found.group(1) if found else None


async def _pages(
    client: httpx.AsyncClient, admin: Person, url: str, between: Any = None
) -> list[list[dict[str, Any]]]:
    pages = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url, headers=admin.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        next_url = _next(response)
        if between is not None and next_url is not None:
            await between(len(pages))
    return pages


async def test_keyset_pages_list_every_student_once_while_students_arrive(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    first = [await world.student(admin.institution_slug, name) for name in NAMES]
    arrived: list[Person] = []

    async def arrive(page: int) -> None:
        # One sorts before every page already read, one after them all.
        arrived.append(await world.student(admin.institution_slug, f"Aaron {page}"))
        arrived.append(await world.student(admin.institution_slug, f"Zz {page}"))

    pages = await _pages(client, admin, "/api/v1/admin/students?limit=2", arrive)

    listed = [s["id"] for page in pages for s in page]
    assert len(listed) == len(set(listed))
    assert {p.id for p in first} <= set(listed)
    assert {p.id for p in arrived if p.full_name.startswith("Zz")} <= set(listed)
    assert all(len(page) <= 2 for page in pages)
    names = [s["full_name"] for page in pages for s in page]
    assert names == sorted(names)


@pytest.mark.parametrize(("sort", "key"), [("email", "email"), ("created_at", "created_at")])
async def test_students_page_in_each_order_an_index_serves(
    sort: str, key: str, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    for name in NAMES:
        await world.student(admin.institution_slug, name)
    pages = await _pages(client, admin, f"/api/v1/admin/students?limit=3&sort={sort}")
    values = [s[key] for page in pages for s in page]
    assert len(values) == len(NAMES)
    assert values == sorted(values)


async def test_search_finds_students_by_part_of_a_name_or_an_email_in_any_case(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    people = {name: await world.student(admin.institution_slug, name) for name in NAMES}
    other = await world.admin("Southside College")
    await world.student(other.institution_slug, "Ann Other")

    async def search(q: str) -> set[int]:
        response = await client.get(
            "/api/v1/admin/students", params={"q": q}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()}

    assert await search("ANN") == {people["Ann Lee"].id}
    assert await search("lee") == {people["Ann Lee"].id}
    assert await search("ar") == {people["Zoe Park"].id, people["Carla Diaz"].id}
    email = people["Eve Moss"].email
    assert await search(email.split("@")[0].upper()) == {people["Eve Moss"].id}
    assert await search("100%_") == set()


async def test_a_search_pages_on_with_its_query(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    for n in range(5):
        await world.student(admin.institution_slug, f"Match {n}")
        await world.student(admin.institution_slug, f"Other {n}")
    pages = await _pages(client, admin, "/api/v1/admin/students?limit=2&q=match")
    assert [s["full_name"] for page in pages for s in page] == [f"Match {n}" for n in range(5)]


@pytest.mark.parametrize(
    "query",
    [
        "limit=101",
        "limit=0",
        "cursor=not-a-cursor",
        "sort=progress",
        "q=a%00b",
        f"q={'x' * 201}",
    ],
)
async def test_bad_paging_input_is_refused(
    query: str, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    response = await client.get(f"/api/v1/admin/students?{query}", headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_cursor_of_another_order_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    for name in NAMES[:3]:
        await world.student(admin.institution_slug, name)
    first = await client.get("/api/v1/admin/students?limit=1", headers=admin.headers)
    next_url = _next(first)
    assert next_url is not None
    cursor = re.search(r"cursor=([^&]+)", next_url)
    assert cursor is not None
    response = await client.get(
        f"/api/v1/admin/students?limit=1&sort=email&cursor={cursor.group(1)}",
        headers=admin.headers,
    )
    assert response.status_code == 422, response.text


async def test_offset_still_pages_for_older_clients(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    for name in NAMES:
        await world.student(admin.institution_slug, name)
    response = await client.get("/api/v1/admin/students?limit=2&offset=2", headers=admin.headers)
    names = sorted(NAMES)
    assert [s["full_name"] for s in response.json()] == names[2:4]
