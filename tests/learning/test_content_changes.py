import httpx
from sqlalchemy import func, select

from lectern.models import Certificate, Event
from tests.factories import World
from tests.learning.course_fixtures import QUIZ, Classroom, classroom, read, watched

RIGHT = [q["answer"] for q in QUIZ]


async def _progress(room: Classroom, client: httpx.AsyncClient) -> tuple[str, float]:
    enrollment = await room.enrollment(client)
    return enrollment["status"], enrollment["progress"]


async def test_adding_and_removing_required_lessons_recomputes_progress(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    headers = room.admin.headers
    await room.post(client, read(room.reading))
    assert await _progress(room, client) == ("active", round(100 / 3, 2))
    chapter_id = room.course["chapters"][0]["id"]
    r = await client.post(
        f"/api/v1/chapters/{chapter_id}/lessons",
        json={"title": "More", "kind": "reading", "body": "x"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    extra = r.json()["id"]
    assert await _progress(room, client) == ("active", 25)
    r = await client.patch(f"/api/v1/lessons/{extra}", json={"weight": 2}, headers=headers)
    assert r.status_code == 200, r.text
    assert await _progress(room, client) == ("active", 20)
    r = await client.patch(
        f"/api/v1/lessons/{room.video}", json={"required": False}, headers=headers
    )
    assert r.json()["required"] is False
    assert await _progress(room, client) == ("active", 25)
    assert (await client.delete(f"/api/v1/lessons/{extra}", headers=headers)).status_code == 204
    assert await _progress(room, client) == ("active", 50)
    async with world.db.session() as session:
        events = (
            await session.scalars(select(Event.type).where(Event.type.like("content.%")))
        ).all()
    assert events == [
        "content.lesson_added",
        "content.lesson_updated",
        "content.lesson_updated",
        "content.lesson_removed",
    ]


async def test_removing_the_last_missing_lesson_completes_an_active_learner(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await room.post(client, read(room.reading), watched(room.video, 0, 100))
    r = await client.delete(f"/api/v1/lessons/{room.quiz}", headers=room.admin.headers)
    assert r.status_code == 204
    assert await _progress(room, client) == ("completed", 100)
    r = await client.get("/api/v1/me/certificates", headers=room.learner.headers)
    assert len(r.json()) == 1


async def test_a_completed_enrollment_and_its_certificate_survive_new_required_content(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await room.post(client, read(room.reading), watched(room.video, 0, 100))
    await client.post(
        f"/api/v1/lessons/{room.quiz}/quiz-attempts",
        json={"answers": RIGHT},
        headers=room.learner.headers,
    )
    assert await _progress(room, client) == ("completed", 100)
    r = await client.post(
        f"/api/v1/courses/{room.course['id']}/chapters",
        json={"title": "Part two", "lessons": [{"title": "New", "kind": "reading"}]},
        headers=room.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["lessons"][0]["title"] == "New"
    assert await _progress(room, client) == ("completed", 100)
    [certificate] = (
        await client.get("/api/v1/me/certificates", headers=room.learner.headers)
    ).json()
    assert (await client.get(f"/api/v1/certificates/{certificate['code']}")).status_code == 200


async def test_requiring_a_qbank_pass_through_the_course_recomputes_progress(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await room.post(client, read(room.reading))
    r = await client.patch(
        f"/api/v1/courses/{room.course['id']}",
        json={"qbank_required": True},
        headers=room.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert await _progress(room, client) == ("active", 25)


async def test_the_question_bank_is_edited_by_staff_only(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    url = f"/api/v1/courses/{room.course['id']}/qbank"
    question = {"prompt": "New?", "choices": ["a", "b"], "answer": 1, "topic": "t"}
    r = await client.post(url, json={"questions": [question]}, headers=room.admin.headers)
    assert r.status_code == 201, r.text
    new_id = r.json()[0]["id"]
    bank = (await client.get(url, headers=room.admin.headers)).json()
    assert len(bank) == 11
    assert bank[-1]["answer"] == 1
    assert (await client.get(url, headers=room.learner.headers)).status_code == 403
    r = await client.post(url, json={"questions": [question]}, headers=room.learner.headers)
    assert r.status_code == 403
    for bad in ({"questions": []}, {"questions": [{**question, "answer": 2}]}, {"x": 1}):
        assert (await client.post(url, json=bad, headers=room.admin.headers)).status_code == 422
    r = await client.delete(f"/api/v1/qbank-questions/{new_id}", headers=room.admin.headers)
    assert r.status_code == 204
    assert len((await client.get(url, headers=room.admin.headers)).json()) == 10


async def test_content_of_another_institution_answers_404_and_bad_edits_write_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    stranger = await world.admin("Southwind College")
    chapter_id = room.course["chapters"][0]["id"]
    reading = {"title": "X", "kind": "reading"}
    for method, url, body in (
        ("POST", f"/api/v1/chapters/{chapter_id}/lessons", reading),
        ("PATCH", f"/api/v1/lessons/{room.video}", {"required": False}),
        ("DELETE", f"/api/v1/lessons/{room.video}", None),
        ("DELETE", f"/api/v1/chapters/{chapter_id}", None),
        ("POST", f"/api/v1/courses/{room.course['id']}/chapters", {"title": "X"}),
        ("GET", f"/api/v1/courses/{room.course['id']}/qbank", None),
    ):
        r = await client.request(method, url, json=body, headers=stranger.headers)
        assert r.status_code == 404, (method, url, r.text)
        r = await client.request(method, url, json=body, headers=room.learner.headers)
        assert r.status_code == 403, (method, url, r.text)
    for bad in ({"weight": 0}, {"weight": "2"}, {"kind": "quiz"}, {"duration_s": -1}):
        r = await client.patch(
            f"/api/v1/lessons/{room.video}", json=bad, headers=room.admin.headers
        )
        assert r.status_code == 422, bad
    r = await client.patch("/api/v1/lessons/99999999", json={}, headers=room.admin.headers)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/courses/{room.course['id']}", headers=room.admin.headers)
    lessons = r.json()["chapters"][0]["lessons"]
    assert [(x["required"], x["weight"]) for x in lessons] == [(True, 1)] * 3


async def test_deleting_a_chapter_removes_its_lessons_and_recomputes(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    r = await client.post(
        f"/api/v1/courses/{room.course['id']}/chapters",
        json={"title": "Only reading", "lessons": [{"title": "R2", "kind": "reading"}]},
        headers=room.admin.headers,
    )
    second = r.json()
    await room.post(client, read(second["lessons"][0]["id"]))
    assert await _progress(room, client) == ("active", 25)
    r = await client.delete(f"/api/v1/chapters/{second['id']}", headers=room.admin.headers)
    assert r.status_code == 204
    assert await _progress(room, client) == ("active", 0)
    async with world.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Certificate)) == 0
