import httpx

from tests.factories import World
from tests.learning.course_fixtures import classroom, read, watched


async def test_a_video_watched_in_pieces_completes_only_at_ninety_percent(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    r = await room.post(client, watched(room.video, 0, 30), watched(room.video, 20, 50))
    assert r.status_code == 200, r.text
    assert [x["accepted"] for x in r.json()["results"]] == [True, True]
    [state] = r.json()["lessons"]
    assert state["watched_s"] == 50
    assert not state["completed"]
    r = await room.post(client, watched(room.video, 50, 89.5), watched(room.video, 10, 40))
    [state] = r.json()["lessons"]
    assert state["watched_s"] == 89.5
    assert not state["completed"]
    assert (await room.enrollment(client))["progress"] == 0
    r = await room.post(client, watched(room.video, 89, 90))
    [state] = r.json()["lessons"]
    assert state["watched_s"] == 90
    assert state["completed"]
    assert (await room.enrollment(client))["progress"] == round(100 / 3, 2)


async def test_a_jump_to_the_end_does_not_complete_a_video(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    r = await room.post(client, watched(room.video, 0, 5), watched(room.video, 95, 100))
    [state] = r.json()["lessons"]
    assert state["watched_s"] == 10
    assert not state["completed"]
    r = await client.get(
        f"/api/v1/me/courses/{room.course['id']}/progress", headers=room.learner.headers
    )
    assert r.json()["lessons"][0]["completed"] is False
    assert r.json()["enrollment"]["progress"] == 0


async def test_a_reading_marked_completed_counts_once(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    r = await room.post(client, read(room.reading), read(room.reading))
    assert [x["accepted"] for x in r.json()["results"]] == [True, True]
    assert r.json()["enrollments"][0]["progress"] == round(100 / 3, 2)
    r = await client.get("/api/v1/admin/analytics", headers=room.admin.headers)
    assert r.status_code == 200


async def test_progress_event_reaches_learner_and_admins(
    world: World, client: httpx.AsyncClient
) -> None:
    from sqlalchemy import select

    from lectern.models import Event

    room = await classroom(world, client)
    await room.post(client, read(room.reading), watched(room.video, 0, 10))
    async with world.db.session() as session:
        events = (
            await session.scalars(select(Event).where(Event.type == "progress.updated"))
        ).all()
    assert len(events) == 1
    assert events[0].audience == "both"
    assert events[0].user_id == room.learner.id
    assert events[0].payload["progress"] == round(100 / 3, 2)
    assert {x["lesson_id"] for x in events[0].payload["lessons"]} == {room.reading, room.video}


async def test_a_reading_is_rendered_to_safe_html(world: World, client: httpx.AsyncClient) -> None:
    body = "# Title\n\n*Read* me <script>alert(1)</script> [x](javascript:alert(1))"
    room = await classroom(
        world,
        client,
        chapters=[{"title": "C", "lessons": [{"title": "R", "kind": "reading", "body": body}]}],
    )
    r = await client.get(f"/api/v1/courses/{room.course['id']}", headers=room.learner.headers)
    [lesson] = r.json()["chapters"][0]["lessons"]
    assert lesson["body"] == body
    assert "<h1>Title</h1>" in lesson["body_html"]
    assert "<em>Read</em>" in lesson["body_html"]
    assert "<script" not in lesson["body_html"]
    assert 'href="javascript' not in lesson["body_html"]
