import io

import httpx
from pypdf import PdfReader
from sqlalchemy import func, select

from lectern.models import Certificate, Event, Notification
from tests.factories import World
from tests.learning.course_fixtures import QUIZ, Classroom, classroom, read, watched

RIGHT = [q["answer"] for q in QUIZ]


async def finish_course(room: Classroom, client: httpx.AsyncClient) -> None:
    await room.post(client, read(room.reading), watched(room.video, 0, 95))
    r = await client.post(
        f"/api/v1/lessons/{room.quiz}/quiz-attempts",
        json={"answers": RIGHT},
        headers=room.learner.headers,
    )
    assert r.status_code == 201, r.text


async def test_a_failed_then_passed_quiz_keeps_the_best_score(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    url = f"/api/v1/lessons/{room.quiz}/quiz-attempts"
    half = [RIGHT[0], RIGHT[1], 0, 0]
    r = await client.post(url, json={"answers": half}, headers=room.learner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["score"] == 0.5
    assert not r.json()["passed"]
    assert not r.json()["lesson_completed"]
    assert r.json()["progress"] == 0
    r = await client.post(url, json={"answers": RIGHT}, headers=room.learner.headers)
    assert r.json()["score"] == 1
    assert r.json()["passed"]
    assert r.json()["lesson_completed"]
    assert r.json()["progress"] == round(100 / 3, 2)
    r = await client.post(url, json={"answers": [2, 1, 2, 0]}, headers=room.learner.headers)
    assert r.json()["score"] == 0
    assert not r.json()["passed"]
    assert r.json()["lesson_completed"]
    assert r.json()["best_score"] == 1
    r = await client.get(
        f"/api/v1/me/courses/{room.course['id']}/progress", headers=room.learner.headers
    )
    [quiz] = [x for x in r.json()["lessons"] if x["lesson_id"] == room.quiz]
    assert quiz == {"lesson_id": room.quiz, "watched_s": 0, "completed": True, "best_score": 1}


async def test_learners_never_receive_the_correct_answers(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    r = await client.get(f"/api/v1/courses/{room.course['id']}", headers=room.learner.headers)
    questions = r.json()["chapters"][0]["lessons"][2]["questions"]
    assert all(q.get("answer") is None for q in questions)
    r = await client.get(f"/api/v1/courses/{room.course['id']}", headers=room.admin.headers)
    assert [q["answer"] for q in r.json()["chapters"][0]["lessons"][2]["questions"]] == RIGHT


async def test_bad_quiz_attempts_are_rejected_and_write_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    url = f"/api/v1/lessons/{room.quiz}/quiz-attempts"
    for body in ({"answers": [1]}, {"answers": [9, 0, 0, 0]}, {"answers": "1"}, {}, []):
        r = await client.post(url, json=body, headers=room.learner.headers)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(
        f"/api/v1/lessons/{room.video}/quiz-attempts",
        json={"answers": RIGHT},
        headers=room.learner.headers,
    )
    assert r.status_code == 404
    r = await client.post(url, json={"answers": RIGHT}, headers=room.admin.headers)
    assert r.status_code == 403
    assert (await room.enrollment(client))["progress"] == 0


async def test_finishing_the_last_item_issues_exactly_one_certificate(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await finish_course(room, client)
    enrollment = await room.enrollment(client)
    assert enrollment["status"] == "completed"
    assert enrollment["progress"] == 100
    assert enrollment["completed_at"] is not None
    # More activity after completion is recorded but completes nothing again.
    r = await room.post(client, watched(room.video, 95, 100), read(room.reading))
    assert all(x["accepted"] for x in r.json()["results"])
    await client.post(
        f"/api/v1/lessons/{room.quiz}/quiz-attempts",
        json={"answers": RIGHT},
        headers=room.learner.headers,
    )
    r = await client.get("/api/v1/me/certificates", headers=room.learner.headers)
    [certificate] = r.json()
    assert certificate["learner_name"] == "Grace Hopper"
    assert certificate["course_title"] == room.course["title"]
    assert len(certificate["code"]) >= 24
    async with world.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Certificate)) == 1
        types = (await session.scalars(select(Event.type).order_by(Event.id))).all()
        kinds = (await session.scalars(select(Notification.kind))).all()
    assert types.count("enrollment.completed") == 1
    assert types.count("certificate.issued") == 1
    assert kinds.count("certificate.issued") == 1


async def test_a_certificate_verifies_publicly_and_downloads_as_a_pdf(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await finish_course(room, client)
    [certificate] = (
        await client.get("/api/v1/me/certificates", headers=room.learner.headers)
    ).json()
    code = certificate["code"]
    r = await client.get(f"/api/v1/certificates/{code}")
    assert r.status_code == 200
    assert r.json()["learner_name"] == "Grace Hopper"
    assert r.json()["user_id"] == room.learner.id
    r = await client.get(f"/api/v1/certificates/{code}.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Grace Hopper" in text
    assert code in text
    assert room.course["title"] in text
    assert (await client.get("/api/v1/certificates/not-a-code")).status_code == 404
    assert (await client.get("/api/v1/certificates/not-a-code.pdf")).status_code == 404


async def test_reenrolling_recomputes_from_the_kept_facts(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await room.post(client, read(room.reading))
    enrollment = await room.enrollment(client)
    r = await client.delete(
        f"/api/v1/admin/enrollments/{enrollment['id']}", headers=room.admin.headers
    )
    assert r.status_code == 200
    # A cancelled learner's activity is rejected.
    r = await room.post(client, watched(room.video, 0, 95))
    assert r.json()["results"][0]["accepted"] is False
    # The lesson's requirement was dropped meanwhile: the kept facts now complete the course.
    for lesson_id in (room.video, room.quiz):
        r = await client.patch(
            f"/api/v1/lessons/{lesson_id}", json={"required": False}, headers=room.admin.headers
        )
        assert r.status_code == 200
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": room.learner.id, "course_id": room.course["id"]},
        headers=room.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "completed"
    assert r.json()["progress"] == 100
    r = await client.get("/api/v1/me/certificates", headers=room.learner.headers)
    assert len(r.json()) == 1


async def test_a_completed_learner_reenrolled_keeps_one_certificate(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    await finish_course(room, client)
    enrollment = await room.enrollment(client)
    r = await client.delete(
        f"/api/v1/admin/enrollments/{enrollment['id']}", headers=room.admin.headers
    )
    assert r.json()["status"] == "cancelled"
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": room.learner.id, "course_id": room.course["id"]},
        headers=room.admin.headers,
    )
    assert r.json()["status"] == "completed"
    async with world.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Certificate)) == 1
        issued = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "certificate.issued")
        )
    assert issued == 1


async def test_progress_is_read_only_by_the_enrolled_learner(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    other = await world.student(room.admin.institution_slug)
    url = f"/api/v1/me/courses/{room.course['id']}/progress"
    assert (await client.get(url, headers=other.headers)).status_code == 404
    assert (await client.get(url, headers=room.admin.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=room.learner.headers)).status_code == 200
