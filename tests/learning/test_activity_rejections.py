import httpx
from sqlalchemy import func, select

from lectern.models import Event, LessonProgress
from tests.factories import World
from tests.learning.course_fixtures import VIDEO_S, classroom, read, watched


async def _facts(world: World) -> tuple[int, int]:
    async with world.db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(LessonProgress))
        events = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "progress.updated")
        )
    return rows or 0, events or 0


async def test_bad_events_are_rejected_one_by_one_with_a_reason(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    elsewhere = await world.course(
        room.admin,
        access="open",
        chapters=[{"title": "C", "lessons": [{"title": "R", "kind": "reading"}]}],
    )
    foreign_admin = await world.admin("Southwind College")
    foreign = await world.course(
        foreign_admin,
        access="open",
        chapters=[{"title": "C", "lessons": [{"title": "R", "kind": "reading"}]}],
    )
    not_enrolled = elsewhere["chapters"][0]["lessons"][0]["id"]
    other_institution = foreign["chapters"][0]["lessons"][0]["id"]
    bad = [
        watched(not_enrolled, 0, 1),
        read(not_enrolled),
        read(other_institution),
        watched(room.video, 20, 10),
        watched(room.video, 10, 10),
        watched(room.video, -5, 10),
        watched(room.video, 90, VIDEO_S + 1),
        {"type": "video.skipped", "lesson_id": room.video},
        {"type": "video.watched", "lesson_id": room.video, "from_s": "0", "to_s": 10},
        {"type": "video.watched", "lesson_id": room.video, "from_s": 0},
        {"type": "video.watched", "lesson_id": room.video, "from_s": 0, "to_s": 5, "x": 1},
        "not an object",
        read(room.video),
        read(room.quiz),
        watched(room.reading, 0, 1),
        read(999_999),
        read(2**40),
    ]
    r = await room.post(client, *bad, watched(room.video, 0, 10))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["index"] for x in results] == list(range(len(bad) + 1))
    assert [x["accepted"] for x in results] == [False] * len(bad) + [True]
    errors = [x["error"] for x in results[: len(bad)]]
    assert all(errors)
    assert "not enrolled" in errors[0]
    assert "not enrolled" in errors[1]
    assert "no such lesson" in errors[2]
    assert "less than" in errors[3]
    assert "less than" in errors[4]
    assert "negative" in errors[5]
    assert "beyond" in errors[6]
    assert "unknown event type" in errors[7]
    assert "from_s" in errors[8]
    assert "to_s" in errors[9]
    assert "x" in errors[10]
    assert "not a video" in errors[14]
    assert "lesson_id" in errors[16]
    # Only the one good event was applied.
    assert r.json()["lessons"] == [
        {"lesson_id": room.video, "watched_s": 10, "completed": False, "best_score": None}
    ]
    assert await _facts(world) == (1, 1)


async def test_a_batch_of_only_bad_events_changes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    r = await room.post(client, watched(room.video, 50, 40), read(room.video))
    assert r.json()["accepted"] == 0
    assert r.json()["rejected"] == 2
    assert await _facts(world) == (0, 0)
    assert (await room.enrollment(client))["progress"] == 0


async def test_bad_requests_are_refused_whole(world: World, client: httpx.AsyncClient) -> None:
    room = await classroom(world, client)
    url, headers = "/api/v1/activity", room.learner.headers
    too_many = [watched(room.video, 0, 1)] * 501
    for body in ({"events": too_many}, {"events": "x"}, {}, {"events": [], "more": 1}, []):
        r = await client.post(url, json=body, headers=headers)
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(
        url, content=b"{not json", headers={**headers, "content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await client.post(
        url,
        content=b'{"events": [{"type": "video.watched", "lesson_id": 1, "from_s": NaN, '
        b'"to_s": 1}]}',
        headers={**headers, "content-type": "application/json"},
    )
    assert r.status_code == 200
    assert r.json()["results"][0]["accepted"] is False
    assert "finite" in r.json()["results"][0]["error"]
    r = await client.post(url, json={"events": [read(room.reading)]}, headers=room.admin.headers)
    assert r.status_code == 403
    r = await client.post(url, json={"events": [read(room.reading)]})
    assert r.status_code == 401
    r = await client.post(url, json={"events": [watched(room.video, 0, 1)] * 500}, headers=headers)
    assert r.status_code == 200
    assert r.json()["accepted"] == 500
    assert await _facts(world) == (1, 1)
