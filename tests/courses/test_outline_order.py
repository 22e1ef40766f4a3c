"""Authors put chapters and lessons in a new order in one request: every part named once,
positions 0, 1, 2…; a list that leaves a part out, repeats one or names another's changes
nothing."""

import httpx

from lectern.courses.ordering import is_reordering
from lectern.platform.db import Database
from tests.factories import World
from tests.rows import event_types, last_event_id, row_counts

OUTLINE = [
    {
        "title": "First",
        "lessons": [
            {"title": "A", "kind": "reading", "body": "a"},
            {"title": "B", "kind": "reading", "body": "b"},
            {"title": "C", "kind": "reading", "body": "c"},
        ],
    },
    {"title": "Second", "lessons": [{"title": "D", "kind": "reading", "body": "d"}]},
    {"title": "Third", "lessons": []},
]


def test_a_reordering_names_every_part_exactly_once() -> None:
    assert is_reordering([3, 1, 2], [1, 2, 3])
    assert not is_reordering([1, 2], [1, 2, 3])
    assert not is_reordering([1, 1, 2], [1, 2, 3])
    assert not is_reordering([1, 2, 4], [1, 2, 3])


async def test_lessons_take_the_order_given_and_the_outline_shows_it(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin, chapters=OUTLINE)
    first = course["chapters"][0]
    a, b, c = (lesson["id"] for lesson in first["lessons"])
    before = await last_event_id(db)

    r = await client.post(
        f"/api/v1/chapters/{first['id']}/lessons/order",
        json={"lesson_ids": [c, a, b]},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    chapter = r.json()[0]
    assert [(lesson["title"], lesson["position"]) for lesson in chapter["lessons"]] == [
        ("C", 0),
        ("A", 1),
        ("B", 2),
    ]
    shown = (await client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)).json()
    assert [lesson["title"] for lesson in shown["chapters"][0]["lessons"]] == ["C", "A", "B"]
    assert await event_types(db, before) == ["content.chapter_updated"]

    again = await client.post(
        f"/api/v1/chapters/{first['id']}/lessons/order",
        json={"lesson_ids": [c, a, b]},
        headers=admin.headers,
    )
    assert again.status_code == 200
    assert await event_types(db, before) == ["content.chapter_updated"]


async def test_chapters_take_the_order_given(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin, chapters=OUTLINE)
    first, second, third = (chapter["id"] for chapter in course["chapters"])

    r = await client.post(
        f"/api/v1/courses/{course['id']}/chapters/order",
        json={"chapter_ids": [third, first, second]},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert [(ch["title"], ch["position"]) for ch in r.json()] == [
        ("Third", 0),
        ("First", 1),
        ("Second", 2),
    ]
    shown = (await client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)).json()
    assert [chapter["title"] for chapter in shown["chapters"]] == ["Third", "First", "Second"]


async def test_an_order_that_misses_repeats_or_borrows_a_part_is_refused_whole(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    course = await world.course(admin, chapters=OUTLINE)
    first, second, _third = course["chapters"]
    a, b, c = (lesson["id"] for lesson in first["lessons"])
    d = second["lessons"][0]["id"]
    before = await row_counts(db)
    lessons = f"/api/v1/chapters/{first['id']}/lessons/order"
    for ids in ([a, b], [a, a, b, c], [a, b, d], [c, b, a, d]):
        r = await client.post(lessons, json={"lesson_ids": ids}, headers=admin.headers)
        assert r.status_code == 422, (ids, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    chapters = f"/api/v1/courses/{course['id']}/chapters/order"
    r = await client.post(chapters, json={"chapter_ids": [second["id"]]}, headers=admin.headers)
    assert r.status_code == 422
    r = await client.post(lessons, json={"lesson_ids": []}, headers=admin.headers)
    assert r.status_code == 422
    assert await row_counts(db) == before
    shown = (await client.get(f"/api/v1/courses/{course['id']}", headers=admin.headers)).json()
    assert [lesson["title"] for lesson in shown["chapters"][0]["lessons"]] == ["A", "B", "C"]


async def test_students_and_other_institutions_cannot_reorder(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    stranger = await world.admin("Elsewhere College")
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, chapters=OUTLINE)
    first = course["chapters"][0]
    ids = [lesson["id"] for lesson in first["lessons"]]
    url = f"/api/v1/chapters/{first['id']}/lessons/order"
    r = await client.post(url, json={"lesson_ids": ids}, headers=student.headers)
    assert r.status_code == 403
    r = await client.post(url, json={"lesson_ids": ids}, headers=stranger.headers)
    assert r.status_code == 404
