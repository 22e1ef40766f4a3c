"""Statements reach a real LRS (Ralph): valid, in event order, once, and only the institution's
own; an LRS that is down loses nothing; a replay stores nothing twice."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from lectern.app import create_app
from lectern.models.base import utcnow
from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.xapi.delivery import XAPI, Lrs
from lectern.xapi.statements import TIME
from tests.factories import World
from tests.learning.course_fixtures import QBANK, QUIZ, Classroom, classroom, read, watched
from tests.xapi.conftest import NorthLrs, Ralph, add_lrs
from tests.xapi.statements_check import expected_statements, validated, verb

RIGHT = [question["answer"] for question in QUIZ]


async def learn_everything(client: httpx.AsyncClient, room: Classroom) -> None:
    """Watch the video in pieces, fail then pass the quiz, take a Q-bank test, read: the course
    completes and its certificate is issued."""
    assert (await room.post(client, watched(room.video, 0, 50))).status_code == 200
    r = await room.post(client, watched(room.video, 40, 70), watched(room.video, 65, 95))
    assert r.status_code == 200
    quiz = f"/api/v1/lessons/{room.quiz}/quiz-attempts"
    wrong = [(answer + 1) % 2 for answer in RIGHT]
    r = await client.post(quiz, json={"answers": wrong}, headers=room.learner.headers)
    assert r.status_code == 201, r.text
    assert not r.json()["passed"]
    r = await client.post(quiz, json={"answers": RIGHT}, headers=room.learner.headers)
    assert r.json()["passed"]
    await take_qbank_test(client, room)
    assert (await room.post(client, read(room.reading))).status_code == 200
    assert (await room.enrollment(client))["status"] == "completed"


async def take_qbank_test(client: httpx.AsyncClient, room: Classroom) -> None:
    headers = room.learner.headers
    r = await client.post(
        f"/api/v1/courses/{room.course['id']}/qbank-tests", json={"count": 2}, headers=headers
    )
    assert r.status_code == 201, r.text
    test = r.json()
    by_prompt = {q["prompt"]: q for q in QBANK}
    for question in test["questions"]:
        r = await client.post(
            f"/api/v1/qbank-tests/{test['id']}/answers",
            json={"question_id": question["id"], "choice": by_prompt[question["prompt"]]["answer"]},
            headers=headers,
        )
        assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/qbank-tests/{test['id']}/finish", headers=headers)
    assert r.status_code == 200, r.text


def _ids(statements: list[dict[str, Any]]) -> list[str]:
    return [statement["id"] for statement in statements]


async def test_a_learners_activity_reaches_the_lrs_as_valid_statements_in_order(
    client: httpx.AsyncClient, db: Database, north: NorthLrs, sender: OutboundWorker[Lrs]
) -> None:
    room, destination, lrs = north.room, north.destination, north.lrs
    await learn_everything(client, room)

    attempts = await sender.deliver_due()

    assert attempts
    assert all(attempt.outcome in ("sent", "passed") for attempt in attempts)
    stored = lrs.stored("north")
    expected = await expected_statements(db, destination)
    assert _ids(stored) == _ids(expected)
    for statement in stored:
        validated(statement)
        assert statement["actor"]["account"]["name"] == str(room.learner.id)
    verbs = [verb(statement) for statement in stored]
    assert verbs[:3] == ["initialized", "played", "paused"]
    assert verbs.count("initialized") == 1
    assert verbs.count("played") == verbs.count("paused") == 3
    assert [v for v in verbs if v in ("answered", "failed", "passed")] == [
        "answered",
        "failed",
        "answered",
        "passed",
        "answered",
        "passed",
    ]
    assert verbs[-2:] == ["completed", "earned"]
    # The video's completion, then the course's.
    assert verbs.count("completed") == 2
    r = await client.get(
        f"/api/v1/admin/xapi/destinations/{destination['id']}", headers=room.admin.headers
    )
    assert r.json()["delivered_through"] >= max(a.through for a in attempts)
    assert r.json()["consecutive_failures"] == 0


async def test_a_learners_statements_never_reach_another_institutions_lrs(
    world: World,
    client: httpx.AsyncClient,
    db: Database,
    lrs: Ralph,
    sender: OutboundWorker[Lrs],
) -> None:
    north = await classroom(world, client)
    south = await classroom(world, client)
    assert north.admin.institution_id == south.admin.institution_id
    # A second school: its own admin, course and learner.
    other_admin = await world.admin("Southgate College")
    other_learner = await world.student(other_admin.institution_slug)
    course = await world.course(
        other_admin,
        access="open",
        chapters=[
            {
                "title": "One",
                "lessons": [{"title": "V", "kind": "video", "duration_s": 60.0, "video_url": "/v"}],
            }
        ],
    )
    video = course["chapters"][0]["lessons"][0]["id"]
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=other_learner.headers)
    assert r.status_code == 201
    north_lrs = await add_lrs(client, north.admin, lrs, "north")
    south_lrs = await add_lrs(client, other_admin, lrs, "south")

    await north.post(client, watched(north.video, 0, 30))
    await south.post(client, watched(south.video, 0, 30))
    r = await client.post(
        "/api/v1/activity",
        json={"events": [watched(video, 0, 60)]},
        headers=other_learner.headers,
    )
    assert r.status_code == 200
    await sender.deliver_due()

    north_stored, south_stored = lrs.stored("north"), lrs.stored("south")
    assert {s["actor"]["account"]["name"] for s in north_stored} == {
        str(north.learner.id),
        str(south.learner.id),
    }
    assert {s["actor"]["account"]["name"] for s in south_stored} == {str(other_learner.id)}
    assert _ids(north_stored) == _ids(await expected_statements(db, north_lrs))
    assert _ids(south_stored) == _ids(await expected_statements(db, south_lrs))
    # The one video completes the course, whose certificate is earned.
    assert [verb(s) for s in south_stored] == [
        "initialized",
        "played",
        "paused",
        "completed",
        "completed",
        "earned",
    ]


async def test_an_lrs_that_is_down_loses_nothing_and_gets_everything_in_order_when_back(
    client: httpx.AsyncClient, db: Database, north: NorthLrs, sender: OutboundWorker[Lrs]
) -> None:
    room, destination, url, lrs = north.room, north.destination, north.url, north.lrs
    lrs.stop()
    await room.post(client, watched(room.video, 0, 50))

    [failed] = await sender.deliver_due()

    assert failed.outcome == "failed"
    assert failed.through == destination["delivered_through"]
    r = await client.get(url + "/deliveries?failed=true", headers=room.admin.headers)
    [delivery] = r.json()
    assert delivery["status"] == "failed"
    assert delivery["http_status"] is None
    assert "ConnectError" in delivery["error"]
    state = (await client.get(url, headers=room.admin.headers)).json()
    assert state["consecutive_failures"] == 1
    assert state["last_error"] == delivery["error"]
    # Not due again until its backoff has passed.
    assert await sender.deliver_due() == []

    await room.post(client, watched(room.video, 50, 100))
    lrs.start()
    attempts = await sender.deliver_due(utcnow() + timedelta(minutes=1))

    assert [attempt.outcome for attempt in attempts] == ["sent"]
    stored = lrs.stored("north")
    assert _ids(stored) == _ids(await expected_statements(db, destination))
    assert [verb(s) for s in stored] == [
        "initialized",
        "played",
        "paused",
        "played",
        "paused",
        "completed",
    ]
    r = await client.get(url + "/deliveries", headers=room.admin.headers)
    assert [(d["status"], d["attempt"]) for d in r.json()] == [("sent", 2), ("failed", 1)]


async def test_a_replay_sends_the_same_statements_and_the_lrs_keeps_one_of_each(
    client: httpx.AsyncClient, db: Database, north: NorthLrs, sender: OutboundWorker[Lrs]
) -> None:
    room, destination, url, lrs = north.room, north.destination, north.url, north.lrs
    await room.post(client, watched(room.video, 0, 50))
    quiz = f"/api/v1/lessons/{room.quiz}/quiz-attempts"
    await client.post(quiz, json={"answers": RIGHT}, headers=room.learner.headers)
    await sender.deliver_due()
    first = lrs.stored("north")
    assert len(first) == len(await expected_statements(db, destination)) == 5

    r = await client.post(
        url + "/replay",
        json={"from_event_id": destination["delivered_through"] + 1},
        headers=room.admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["delivered_through"] == destination["delivered_through"]
    [again] = await sender.deliver_due()

    assert again.outcome == "sent"
    assert lrs.stored("north") == first
    r = await client.get(url + "/deliveries", headers=room.admin.headers)
    assert [d["status"] for d in r.json()] == ["sent", "sent"]
    assert r.json()[0]["http_status"] == 204


async def test_a_disabled_lrs_waits_and_gets_what_it_missed_when_enabled(
    world: World,
    client: httpx.AsyncClient,
    db: Database,
    lrs: Ralph,
    sender: OutboundWorker[Lrs],
) -> None:
    room = await classroom(world, client)
    destination = await add_lrs(client, room.admin, lrs, "north", enabled=False)
    assert (destination["enabled"], destination["status"]) == (False, "paused")
    await room.post(client, watched(room.video, 0, 30))

    assert await sender.deliver_due() == []
    assert lrs.stored("north") == []

    url = f"/api/v1/admin/xapi/destinations/{destination['id']}"
    r = await client.patch(url, json={"enabled": True}, headers=room.admin.headers)
    assert (r.json()["enabled"], r.json()["status"]) == (True, "active")
    await sender.deliver_due()
    assert _ids(lrs.stored("north")) == _ids(await expected_statements(db, destination))
    assert len(lrs.stored("north")) == 3


async def test_the_apps_own_worker_sends_the_statements_soon_after_the_commit(
    settings: Settings, db: Database, lrs: Ralph
) -> None:
    app = create_app(settings.model_copy(update={"xapi_worker": True}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as own:
            room = await classroom(World(app.state.database, own), own)
            destination = await add_lrs(own, room.admin, lrs, "north")
            await room.post(own, watched(room.video, 0, 30))
            # Nobody calls the worker: the commit wakes it. It is stopped once it has recorded
            # the delivery and gone back to waiting, not in the middle of a round.
            url = f"/api/v1/admin/xapi/destinations/{destination['id']}"
            for _ in range(600):
                state = (await own.get(url, headers=room.admin.headers)).json()
                if state["delivered_through"] > destination["delivered_through"]:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
    assert _ids(lrs.stored("north")) == _ids(await expected_statements(db, destination))


async def test_more_events_than_a_batch_arrive_in_event_order_across_batches(
    client: httpx.AsyncClient, db: Database, north: NorthLrs, sender: OutboundWorker[Lrs]
) -> None:
    room, destination, lrs = north.room, north.destination, north.lrs
    for second in range(XAPI.batch_size + 5):
        r = await room.post(client, watched(room.video, second, second + 0.5))
        assert r.status_code == 200

    attempts = await sender.deliver_due()

    sent = [attempt for attempt in attempts if attempt.outcome == "sent"]
    assert [len(attempt.event_ids) for attempt in sent] == [XAPI.batch_size, 5]
    stored = lrs.stored("north")
    assert _ids(stored) == _ids(await expected_statements(db, destination))
    times = [s["result"]["extensions"][TIME] for s in stored if verb(s) == "played"]
    assert times == [float(second) for second in range(XAPI.batch_size + 5)]
