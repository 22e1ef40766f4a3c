"""Exactly once across a sender killed after the LRS took a batch and before the cursor moved:
the batch goes again, with the same statement ids, and the LRS holds each statement once."""

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from lectern.outbound.worker import OutboundWorker
from lectern.platform.db import Database
from lectern.xapi.delivery import Lrs
from tests.learning.course_fixtures import QUIZ, watched
from tests.xapi.conftest import NorthLrs
from tests.xapi.statements_check import expected_statements

ROOT = Path(__file__).resolve().parents[2]


async def test_a_sender_killed_after_the_lrs_answered_sends_again_and_nothing_is_stored_twice(
    client: httpx.AsyncClient,
    db: Database,
    database_url: str,
    north: NorthLrs,
    sender: OutboundWorker[Lrs],
) -> None:
    room, destination, url, lrs = north.room, north.destination, north.url, north.lrs
    await room.post(client, watched(room.video, 0, 60), watched(room.video, 50, 95))
    quiz = f"/api/v1/lessons/{room.quiz}/quiz-attempts"
    answers = [question["answer"] for question in QUIZ]
    r = await client.post(quiz, json={"answers": answers}, headers=room.learner.headers)
    assert r.status_code == 201
    expected = [s["id"] for s in await expected_statements(db, destination)]

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.xapi.killed_sender",
        database_url,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        out, err = await process.communicate()
    said = out.decode() + err.decode()

    assert process.returncode == -signal.SIGKILL, said
    assert out.decode().startswith("sent events"), said
    assert [s["id"] for s in lrs.stored("north")] == expected
    state = (await client.get(url, headers=room.admin.headers)).json()
    assert state["delivered_through"] == destination["delivered_through"]
    assert (await client.get(url + "/deliveries", headers=room.admin.headers)).json() == []

    [again] = await sender.deliver_due()

    assert again.outcome == "sent"
    # Ralph answers 204 when it already holds every statement of a batch.
    assert again.http_status == 204
    stored = [s["id"] for s in lrs.stored("north")]
    assert stored == expected
    assert len(set(stored)) == len(stored)
    state = (await client.get(url, headers=room.admin.headers)).json()
    assert state["delivered_through"] == again.through > destination["delivered_through"]
