import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from lectern.models import Certificate, Enrollment, Event
from tests.conftest import LiveServer
from tests.factories import World
from tests.learning.course_fixtures import classroom, read, watched


@pytest.mark.postgres_only
async def test_twenty_simultaneous_final_posts_make_one_certificate_and_one_completion(
    world: World, client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    room = await classroom(world, client)
    quiz = f"/api/v1/lessons/{room.quiz}/quiz-attempts"
    await room.post(client, read(room.reading))
    r = await client.post(quiz, json={"answers": [1, 0, 1, 1]}, headers=room.learner.headers)
    assert r.json()["lesson_completed"]

    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/activity",
                    json={"events": [watched(room.video, 0, 60), watched(room.video, 55, 95)]},
                    headers=room.learner.headers,
                )
                for _ in range(20)
            )
        )
    assert [r.status_code for r in responses] == [200] * 20
    assert all(r.json()["accepted"] == 2 for r in responses)
    async with world.db.session() as session:
        enrollment = (await session.scalars(select(Enrollment))).one()
        certificates = await session.scalar(select(func.count()).select_from(Certificate))
        completions = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "enrollment.completed")
        )
        issued = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "certificate.issued")
        )
    assert enrollment.status == "completed"
    assert enrollment.progress == 100
    assert (certificates, completions, issued) == (1, 1, 1)
