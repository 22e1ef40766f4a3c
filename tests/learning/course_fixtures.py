"""A course with one lesson of each kind, and an enrolled learner, made through the API."""

from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import Person, World

VIDEO_S = 100.0
QUIZ = [
    {"prompt": "2 + 2?", "choices": ["3", "4", "5"], "answer": 1},
    {"prompt": "Capital of France?", "choices": ["Paris", "Rome"], "answer": 0},
    {"prompt": "Water boils at (°C)?", "choices": ["90", "100", "110"], "answer": 1},
    {"prompt": "Largest planet?", "choices": ["Mars", "Jupiter"], "answer": 1},
]
QBANK = [
    {
        "prompt": f"Q{n}: {n} × 2?",
        "choices": [str(n * 2), str(n * 2 + 1)],
        "answer": 0,
        "topic": "even" if n % 2 == 0 else "odd",
    }
    for n in range(10)
]


@dataclass
class Classroom:
    admin: Person
    learner: Person
    course: dict[str, Any]
    video: int
    reading: int
    quiz: int

    async def post(self, client: httpx.AsyncClient, *events: dict[str, Any]) -> httpx.Response:
        return await client.post(
            "/api/v1/activity", json={"events": list(events)}, headers=self.learner.headers
        )

    async def enrollment(self, client: httpx.AsyncClient) -> dict[str, Any]:
        r = await client.get("/api/v1/me/enrollments", headers=self.learner.headers)
        [row] = [e for e in r.json() if e["course_id"] == self.course["id"]]
        return row


def watched(lesson_id: int, from_s: float, to_s: float) -> dict[str, Any]:
    return {"type": "video.watched", "lesson_id": lesson_id, "from_s": from_s, "to_s": to_s}


def read(lesson_id: int) -> dict[str, Any]:
    return {"type": "lesson.completed", "lesson_id": lesson_id}


async def classroom(world: World, client: httpx.AsyncClient, **course: Any) -> Classroom:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug, name="Grace Hopper")
    body = {
        "access": "open",
        "chapters": [
            {
                "title": "Basics",
                "lessons": [
                    {
                        "title": "Watch",
                        "kind": "video",
                        "duration_s": VIDEO_S,
                        "video_url": "/media/demo.mp4",
                    },
                    {"title": "Read", "kind": "reading", "body": "# Hello\n\n*world*"},
                    {"title": "Check", "kind": "quiz", "questions": QUIZ, "pass_mark": 0.75},
                ],
            }
        ],
        "qbank": QBANK,
    }
    body.update(course)
    created = await world.course(admin, **body)
    r = await client.post(f"/api/v1/courses/{created['id']}/enroll", headers=learner.headers)
    assert r.status_code == 201, r.text
    lessons = {x["kind"]: x["id"] for x in created["chapters"][0]["lessons"]}
    return Classroom(
        admin, learner, created, lessons.get("video", 0), lessons["reading"], lessons.get("quiz", 0)
    )
