"""GET /api/v1/admin/courses/{id}/analytics: the figures behind the per-course charts, scoped to
the admin's institution."""

from typing import Any

import httpx

from tests.factories import Person, World

QBANK = [
    {"prompt": f"{n} + 1?", "choices": [str(n + 1), str(n + 2)], "answer": 0, "topic": "sums"}
    for n in range(3)
]


async def _course(world: World, admin: Person) -> dict[str, Any]:
    return await world.course(
        admin,
        access="open",
        chapters=[
            {
                "title": "Only",
                "lessons": [
                    {"title": "Clip", "kind": "video", "duration_s": 10, "video_url": "/v.webm"},
                    {"title": "Notes", "kind": "reading", "body": "Read me."},
                ],
            }
        ],
        qbank=QBANK,
    )


async def _do(client: httpx.AsyncClient, learner: Person, *events: dict[str, Any]) -> None:
    r = await client.post("/api/v1/activity", json={"events": events}, headers=learner.headers)
    assert r.status_code == 200, r.text
    assert all(result["accepted"] for result in r.json()["results"]), r.text


async def test_course_analytics_shows_distribution_completions_and_question_statistics(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await _course(world, admin)
    video, reading = (lesson["id"] for lesson in course["chapters"][0]["lessons"])
    watch = {"type": "video.watched", "lesson_id": video, "from_s": 0, "to_s": 10}
    read = {"type": "lesson.completed", "lesson_id": reading}
    finisher = await world.student(admin.institution_slug)
    halfway = await world.student(admin.institution_slug)
    for learner in (finisher, halfway):
        r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
        assert r.status_code == 201, r.text
    await _do(client, finisher, watch, read)
    await _do(client, halfway, read)

    test = (
        await client.post(
            f"/api/v1/courses/{course['id']}/qbank-tests",
            json={"count": 3},
            headers=finisher.headers,
        )
    ).json()
    for question in test["questions"]:
        r = await client.post(
            f"/api/v1/qbank-tests/{test['id']}/answers",
            json={"question_id": question["id"], "choice": 0},
            headers=finisher.headers,
        )
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/qbank-tests/{test['id']}/finish", headers=finisher.headers)
    assert r.status_code == 200, r.text

    r = await client.get(f"/api/v1/admin/courses/{course['id']}/analytics", headers=admin.headers)
    assert r.status_code == 200, r.text
    figures = r.json()
    assert figures["course_id"] == course["id"]
    assert figures["active_enrollments"] == 1
    assert figures["completed_enrollments"] == 1
    assert figures["average_progress"] == 75.0
    buckets = {b["label"]: b["count"] for b in figures["progress_distribution"]}
    assert buckets["50–59 %"] == 1
    assert buckets["100 %"] == 1
    assert sum(buckets.values()) == 2
    [day] = figures["completions_over_time"]
    assert day["completions"] == 1
    stats = figures["qbank_questions"]
    assert [q["prompt"] for q in stats] == [q["prompt"] for q in QBANK]
    assert all(q["attempts"] == 1 and q["correct"] == 1 for q in stats)
    assert all(q["share_correct"] == 1.0 for q in stats)


async def test_course_analytics_of_an_empty_course_has_zero_figures(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await world.course(admin)
    r = await client.get(f"/api/v1/admin/courses/{course['id']}/analytics", headers=admin.headers)
    assert r.status_code == 200, r.text
    figures = r.json()
    assert figures["average_progress"] == 0.0
    assert all(b["count"] == 0 for b in figures["progress_distribution"])
    assert figures["completions_over_time"] == []
    assert figures["qbank_questions"] == []


async def test_course_analytics_is_scoped_to_the_admins_institution(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    course = await _course(world, admin)
    stranger = await world.admin("Southside College")
    student = await world.student(admin.institution_slug)
    path = f"/api/v1/admin/courses/{course['id']}/analytics"

    assert (await client.get(path, headers=stranger.headers)).status_code == 404
    assert (await client.get(path, headers=student.headers)).status_code == 403
    assert (await client.get(path)).status_code == 401
    unknown = await client.get("/api/v1/admin/courses/999999/analytics", headers=admin.headers)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    for bad_id in ("abc", "0", "-3", str(2**40)):
        bad = await client.get(f"/api/v1/admin/courses/{bad_id}/analytics", headers=admin.headers)
        assert bad.status_code == 422, bad_id
