"""Assignment and Grade Services: a launched learner's progress and completion reach the
platform's line item as scores, with an access token Lectern's signed assertion obtained."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from lectern.lti import claims as c
from lectern.lti.worker import ScoreWorker
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.factories import World
from tests.lti.conftest import Registered, launch, login, resource_claims
from tests.lti.platform import CLIENT_ID, PlatformServer
from tests.rows import rows, scalar


async def _launched_learner(
    client: httpx.AsyncClient, platform: PlatformServer, registered: Registered
) -> dict[str, str]:
    """The headers of the launched learner's session (cookie and CSRF token)."""
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    claims = resource_claims(course_id, line_item=platform.line_item())
    r = await launch(client, started, platform.id_token(started.nonce, **claims))
    assert r.status_code == 303, r.text
    return {
        "Cookie": f"lectern_session={r.cookies['lectern_session']}",
        "X-CSRF-Token": r.cookies["lectern_csrf"],
    }


async def _complete(client: httpx.AsyncClient, learner: dict[str, str], lesson_id: int) -> None:
    r = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": lesson_id}]},
        headers=learner,
    )
    assert r.status_code == 200, r.text


async def _scores_received(platform: PlatformServer, count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        with platform.lock:
            if len(platform.scores) >= count:
                return list(platform.scores)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the platform got {len(platform.scores)} scores, not {count}")


async def test_progress_and_completion_reach_the_platform_as_scores(
    client: httpx.AsyncClient, platform: PlatformServer, registered: Registered
) -> None:
    learner = await _launched_learner(client, platform, registered)
    [first, second] = registered.course["chapters"][0]["lessons"]

    await _complete(client, learner, first["id"])
    [halfway] = await _scores_received(platform, 1)
    await _complete(client, learner, second["id"])
    [_, done] = await _scores_received(platform, 2)

    assert halfway["path"] == "/lineitems/1/lineitem/scores?course=7"
    assert halfway["authorization"] == "Bearer score-token"
    assert halfway["content_type"] == "application/vnd.ims.lis.v1.score+json"
    assert halfway["body"]["userId"] == "platform-user-1"
    assert halfway["body"]["scoreGiven"] == 50.0
    assert halfway["body"]["scoreMaximum"] == 100.0
    assert halfway["body"]["activityProgress"] == "InProgress"
    assert halfway["body"]["gradingProgress"] == "Pending"
    assert done["body"]["scoreGiven"] == 100.0
    assert done["body"]["activityProgress"] == "Completed"
    assert done["body"]["gradingProgress"] == "FullyGraded"
    assert done["body"]["timestamp"] > halfway["body"]["timestamp"]
    # The token was asked for with a JWT bearer assertion signed by Lectern's published key.
    request = platform.token_requests[0]
    assert request["grant_type"] == "client_credentials"
    assert request["scope"] == c.AGS_SCORE_SCOPE
    published = KeySet.import_key_set((await client.get("/lti/jwks")).json())
    assertion = jwt.decode(request["client_assertion"], published, algorithms=["RS256"]).claims
    assert assertion["iss"] == assertion["sub"] == CLIENT_ID
    assert assertion["aud"] == f"{platform.url}/token"
    scores = await client.get(
        f"/api/v1/admin/lti/platforms/{registered.platform_id}/scores",
        headers=registered.admin.headers,
    )
    assert [s["status"] for s in scores.json()] == ["sent", "sent"]
    metrics = (await client.get("/metrics")).text
    assert "lectern_lti_scores_sent_total" in metrics
    assert 'lectern_lti_launches_total{outcome="accepted"}' in metrics
    assert "lectern_lti_scores_lag_seconds" in metrics


async def test_a_refused_score_is_sent_again_later(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    learner = await _launched_learner(client, platform, registered)
    platform.score_failures = 1
    first = registered.course["chapters"][0]["lessons"][0]["id"]

    await _complete(client, learner, first)
    for _ in range(200):
        if await scalar(db, "SELECT attempts FROM lti_scores") == 1:
            break
        await asyncio.sleep(0.05)
    [waiting] = await rows(db, "SELECT status, attempts, last_error FROM lti_scores")
    assert waiting["status"] == "pending"
    assert "503" in waiting["last_error"]
    assert platform.scores == []

    outcomes = await ScoreWorker(db).deliver_due(utcnow() + timedelta(minutes=2))

    assert [o.status for o in outcomes] == ["sent"]
    [sent] = await _scores_received(platform, 1)
    assert sent["body"]["scoreGiven"] == 50.0
    assert await scalar(db, "SELECT status FROM lti_scores") == "sent"


async def test_workers_that_find_one_score_due_together_send_it_once(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    learner = await _launched_learner(client, platform, registered)
    platform.score_failures = 1
    await _complete(client, learner, registered.course["chapters"][0]["lessons"][0]["id"])
    for _ in range(200):
        if await scalar(db, "SELECT attempts FROM lti_scores") == 1:
            break
        await asyncio.sleep(0.05)

    due = utcnow() + timedelta(minutes=2)
    rounds = await asyncio.gather(*(ScoreWorker(db).deliver_due(due) for _ in range(4)))

    assert sorted(o.status for outcomes in rounds for o in outcomes) == ["sent"]
    assert len(platform.scores) == 1
    assert await scalar(db, "SELECT attempts FROM lti_scores") == 2


async def test_a_learner_who_came_without_a_line_item_sends_no_score(
    client: httpx.AsyncClient,
    world: World,
    db: Database,
    platform: PlatformServer,
    registered: Registered,
) -> None:
    learner = await world.student(registered.admin.institution_slug)
    course_id = registered.course["id"]
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": learner.id, "course_id": course_id},
        headers=registered.admin.headers,
    )
    assert r.status_code in (200, 201), r.text
    first = registered.course["chapters"][0]["lessons"][0]["id"]

    r = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": first}]},
        headers=learner.headers,
    )

    assert r.status_code == 200
    assert await scalar(db, "SELECT count(*) FROM lti_scores") == 0
