"""A learner who may not take a course sees its outline and nothing of its lessons' content;
the paths that would show content (the course, quiz attempts, Q-bank tests) refuse them."""

from typing import Any

import httpx
from sqlalchemy import func, select

from lectern.models import QbankTest, QuizAttempt
from lectern.models.enums import Role
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.learning.course_fixtures import QBANK, QUIZ
from tests.payments.stripe_events import charge_refunded, session_completed, signed

BODY = "# Secret chapter\n\nOnly for enrolled learners."
VIDEO_URL = "/media/lesson-one.webm"
CHAPTERS = [
    {
        "title": "Basics",
        "lessons": [
            {"title": "Watch", "kind": "video", "duration_s": 90, "video_url": VIDEO_URL},
            {"title": "Read", "kind": "reading", "body": BODY, "required": False, "weight": 2},
            {"title": "Check", "kind": "quiz", "questions": QUIZ, "pass_mark": 0.75},
            {"title": "Practise", "kind": "qbank", "pass_mark": 0.5},
        ],
    }
]
OUTLINE = [
    {"title": "Watch", "kind": "video", "position": 0, "required": True, "weight": 1.0},
    {"title": "Read", "kind": "reading", "position": 1, "required": False, "weight": 2.0},
    {"title": "Check", "kind": "quiz", "position": 2, "required": True, "weight": 1.0},
    {"title": "Practise", "kind": "qbank", "position": 3, "required": True, "weight": 1.0},
]
CONTENT_FIELDS = ("video_url", "body", "body_html", "questions")


async def course_of(world: World, admin: Person, **fields: Any) -> dict[str, Any]:
    return await world.course(admin, chapters=CHAPTERS, qbank=QBANK, **fields)


async def seen_by(client: httpx.AsyncClient, person: Person, course: dict[str, Any]) -> Any:
    r = await client.get(f"/api/v1/courses/{course['id']}", headers=person.headers)
    assert r.status_code == 200, r.text
    return r.json()


def lessons_of(course: dict[str, Any]) -> list[dict[str, Any]]:
    return [lesson for chapter in course["chapters"] for lesson in chapter["lessons"]]


def assert_outline_only(course: dict[str, Any]) -> None:
    assert course["content_access"] is False
    lessons = lessons_of(course)
    assert [{k: lesson[k] for k in OUTLINE[0]} for lesson in lessons] == OUTLINE
    assert [lesson["duration_s"] for lesson in lessons] == [90, None, None, None]
    assert [lesson["pass_mark"] for lesson in lessons] == [None, None, 0.75, 0.5]
    for lesson in lessons:
        assert all(lesson[field] is None for field in CONTENT_FIELDS), lesson
    text = str(course)
    assert "Secret chapter" not in text
    assert QUIZ[0]["prompt"] not in text
    assert VIDEO_URL not in text
    assert "Jupiter" not in text


def assert_content(course: dict[str, Any]) -> None:
    assert course["content_access"] is True
    video, reading, quiz, _qbank = lessons_of(course)
    assert video["video_url"] == VIDEO_URL
    assert reading["body"] == BODY
    assert "<h1>Secret chapter</h1>" in reading["body_html"]
    assert [q["prompt"] for q in quiz["questions"]] == [q["prompt"] for q in QUIZ]


async def refused_everything(
    client: httpx.AsyncClient, db: Database, learner: Person, course: dict[str, Any]
) -> None:
    """The quiz, the activity and a Q-bank test refuse the learner and write nothing."""
    _video, reading, quiz, _qbank = lessons_of(await seen_by(client, learner, course))
    r = await client.post(
        f"/api/v1/lessons/{quiz['id']}/quiz-attempts",
        json={"answers": [q["answer"] for q in QUIZ]},
        headers=learner.headers,
    )
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    r = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": reading["id"]}]},
        headers=learner.headers,
    )
    assert r.json()["accepted"] == 0
    r = await client.post(
        f"/api/v1/courses/{course['id']}/qbank-tests", json={"count": 3}, headers=learner.headers
    )
    assert r.status_code == 404, r.text
    async with db.session() as session:
        for model in (QuizAttempt, QbankTest):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_a_paid_course_not_paid_for_shows_its_outline_and_price_only(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="paid", price_cents=4900, currency="eur")
    seen = await seen_by(client, learner, course)
    assert_outline_only(seen)
    assert (seen["price_cents"], seen["currency"], seen["access"]) == (4900, "eur", "paid")
    await refused_everything(client, db, learner, course)


async def test_a_pending_request_shows_the_outline_only_until_approved(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="approval")
    r = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=learner.headers
    )
    assert r.status_code == 201, r.text
    seen = await seen_by(client, learner, course)
    assert seen["request_status"] == "pending"
    assert_outline_only(seen)
    r = await client.post(
        f"/api/v1/admin/access-requests/{r.json()['id']}/approve", headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert_content(await seen_by(client, learner, course))


async def test_an_open_course_shows_its_content_once_the_learner_enrolls(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="open")
    assert_outline_only(await seen_by(client, learner, course))
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    assert r.status_code == 201, r.text
    assert_content(await seen_by(client, learner, course))


async def test_the_catalog_says_which_courses_show_their_content(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    locked = await course_of(world, admin, access="open", title="Locked")
    taken = await course_of(world, admin, access="open", title="Taken")
    await client.post(f"/api/v1/courses/{taken['id']}/enroll", headers=learner.headers)
    r = await client.get("/api/v1/courses", headers=learner.headers)
    assert {c["id"]: c["content_access"] for c in r.json()} == {
        locked["id"]: False,
        taken["id"]: True,
    }


async def test_a_completed_enrollment_keeps_the_content(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    chapters = [{"title": "Only", "lessons": [{"title": "Read", "kind": "reading", "body": BODY}]}]
    course = await world.course(admin, access="open", chapters=chapters)
    await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    [reading] = lessons_of(course)
    r = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": reading["id"]}]},
        headers=learner.headers,
    )
    assert r.json()["accepted"] == 1
    seen = await seen_by(client, learner, course)
    assert seen["enrollment_status"] == "completed"
    assert seen["content_access"] is True
    assert lessons_of(seen)[0]["body"] == BODY


async def test_an_admin_unenrollment_takes_the_content_away(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="approval")
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": learner.id, "course_id": course["id"]},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    assert_content(await seen_by(client, learner, course))
    r = await client.delete(f"/api/v1/admin/enrollments/{r.json()['id']}", headers=admin.headers)
    assert r.status_code in (200, 204), r.text
    seen = await seen_by(client, learner, course)
    assert seen["enrollment_status"] == "cancelled"
    assert_outline_only(seen)
    await refused_everything(client, db, learner, course)


async def test_a_refund_takes_the_content_away(
    world: World, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="paid", price_cents=4900)
    r = await client.post(f"/api/v1/courses/{course['id']}/checkout", headers=learner.headers)
    assert r.status_code in (200, 201), r.text
    r = await client.get(f"/api/v1/admin/payments/{r.json()['payment_id']}", headers=admin.headers)
    payment = r.json()
    secret = settings.test_payment_webhook_secret
    webhook = "/api/v1/payments/webhooks/stripe"
    r = await client.post(webhook, **signed(session_completed(payment), secret))
    assert r.json()["outcome"] == "completed", r.text
    assert_content(await seen_by(client, learner, course))
    r = await client.post(webhook, **signed(charge_refunded(payment), secret))
    assert r.json()["outcome"] == "refunded", r.text
    assert_outline_only(await seen_by(client, learner, course))
    await refused_everything(client, db, learner, course)


async def test_an_open_qbank_test_closes_with_the_enrollment(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await course_of(world, admin, access="open")
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    enrollment_id = r.json()["id"]
    r = await client.post(
        f"/api/v1/courses/{course['id']}/qbank-tests", json={"count": 3}, headers=learner.headers
    )
    assert r.status_code == 201, r.text
    test = r.json()
    r = await client.delete(f"/api/v1/admin/enrollments/{enrollment_id}", headers=admin.headers)
    assert r.status_code in (200, 204), r.text
    answer = {"question_id": test["questions"][0]["id"], "choice": 0}
    for method, path, body in (
        ("GET", f"/api/v1/qbank-tests/{test['id']}", None),
        ("POST", f"/api/v1/qbank-tests/{test['id']}/answers", answer),
        ("POST", f"/api/v1/qbank-tests/{test['id']}/finish", {}),
    ):
        r = await client.request(method, path, json=body, headers=learner.headers)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["detail"] == "You are not enrolled in this course."


async def test_another_institution_sees_nothing_of_the_course(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await course_of(world, admin, access="open")
    other_admin = await world.admin("Southwind College")
    stranger = await world.student(other_admin.institution_slug)
    for person in (stranger, other_admin):
        r = await client.get(f"/api/v1/courses/{course['id']}", headers=person.headers)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "Secret chapter" not in r.text


async def test_the_staff_see_the_content_without_enrolling(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    instructor = await world.admin(role=Role.INSTRUCTOR)
    course = await course_of(world, admin, access="paid", price_cents=100)
    await world.make_staff(admin, course, instructor, "observer")
    for person in (admin, instructor):
        assert_content(await seen_by(client, person, course))
