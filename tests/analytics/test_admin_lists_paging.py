"""The request queue and the payments list page by keyset, newest first: the `Link` header's
next page goes on from the last row shown, so rows that arrive between pages neither push a
row onto two pages nor hide one."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.factories import Person, World

PAGE = 2


def _next(response: httpx.Response) -> str | None:
    found = re.search(r'<([^>]*)>;\s*rel="next"', response.headers.get("link", ""))
    return found.group(1) if found else None


async def _walk(
    client: httpx.AsyncClient, admin: Person, url: str, between: Callable[[], Awaitable[None]]
) -> list[list[dict[str, Any]]]:
    pages = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url, headers=admin.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        next_url = _next(response)
        if next_url is not None:
            await between()
    return pages


async def _ask(client: httpx.AsyncClient, student: Person, course: dict[str, Any]) -> int:
    asked = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    assert asked.status_code == 201, asked.text
    request_id: int = asked.json()["id"]
    return request_id


async def _buy(client: httpx.AsyncClient, student: Person, course: dict[str, Any]) -> int:
    started = await client.post(f"/api/v1/courses/{course['id']}/checkout", headers=student.headers)
    assert started.status_code in (200, 201), started.text
    payment_id: int = started.json()["payment_id"]
    return payment_id


async def test_request_queue_pages_list_every_request_once_while_requests_arrive(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    courses = [await world.course(admin) for _ in range(2)]
    there = [
        await _ask(client, await world.student(admin.institution_slug), course)
        for course in courses
        for _ in range(3)
    ]
    arrived: list[int] = []

    async def arrive() -> None:
        student = await world.student(admin.institution_slug)
        arrived.append(await _ask(client, student, courses[len(arrived) % 2]))

    pages = await _walk(
        client, admin, f"/api/v1/admin/access-requests?status=pending&limit={PAGE}", arrive
    )

    listed = [r["id"] for page in pages for r in page]
    assert sorted(listed) == sorted(there)
    assert listed == sorted(listed, reverse=True)
    assert all(len(page) <= PAGE for page in pages)
    assert len(arrived) == len(pages) - 1 > 0
    newest = await client.get("/api/v1/admin/access-requests?status=pending", headers=admin.headers)
    assert [r["id"] for r in newest.json()] == sorted(there + arrived, reverse=True)
    assert _next(newest) is None


async def test_request_queue_pages_keep_their_filter(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    wanted, other = await world.course(admin), await world.course(admin)
    mine = [await _ask(client, await world.student(admin.institution_slug), wanted) for _ in "abc"]
    await _ask(client, await world.student(admin.institution_slug), other)

    async def nothing() -> None:
        return None

    url = f"/api/v1/admin/access-requests?status=pending&course_id={wanted['id']}&limit=1"
    pages = await _walk(client, admin, url, nothing)

    assert [r["id"] for page in pages for r in page] == sorted(mine, reverse=True)


async def test_payments_pages_list_every_payment_once_while_payments_arrive(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await world.course(admin, access="paid", price_cents=4900, currency="usd")
    there = [
        await _buy(client, await world.student(admin.institution_slug), course) for _ in range(5)
    ]
    arrived: list[int] = []

    async def arrive() -> None:
        arrived.append(await _buy(client, await world.student(admin.institution_slug), course))

    pages = await _walk(client, admin, f"/api/v1/admin/payments?limit={PAGE}", arrive)

    listed = [p["id"] for page in pages for p in page]
    assert sorted(listed) == sorted(there)
    assert listed == sorted(listed, reverse=True)
    assert all(len(page) <= PAGE for page in pages)
    assert len(arrived) == len(pages) - 1 > 0


async def test_a_cursor_not_made_by_the_list_is_refused_and_changes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    for _ in range(2):
        await world.student(admin.institution_slug, "Ann Lee")
    students = await client.get("/api/v1/admin/students?limit=1", headers=admin.headers)
    students_next = _next(students)
    assert students_next is not None
    cursor = re.search(r"cursor=([^&]+)", students_next)
    assert cursor is not None

    for path in ("/api/v1/admin/access-requests", "/api/v1/admin/payments"):
        for bad in (cursor.group(1), "not-a-cursor", "WyJuZXdlc3QiLFsieCJdXQ"):
            response = await client.get(f"{path}?cursor={bad}", headers=admin.headers)
            assert response.status_code == 422, (path, bad, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
