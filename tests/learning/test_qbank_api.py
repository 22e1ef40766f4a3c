import httpx
from sqlalchemy import func, select

from lectern.models import QbankQuestion, QbankTest
from tests.audit.recorded import audited
from tests.factories import World
from tests.learning.course_fixtures import QBANK, classroom


async def test_a_qbank_test_updates_statistics(world: World, client: httpx.AsyncClient) -> None:
    room = await classroom(world, client)
    headers = room.learner.headers
    r = await client.post(
        f"/api/v1/courses/{room.course['id']}/qbank-tests", json={"count": 4}, headers=headers
    )
    assert r.status_code == 201, r.text
    test = r.json()
    assert test["status"] == "pending"
    assert len(test["questions"]) == 4
    assert all("answer" not in q and q["correct"] is None for q in test["questions"])
    by_prompt = {q["prompt"]: q for q in QBANK}
    first, second, third, _unanswered = test["questions"]
    for question, right in ((first, True), (second, True), (third, False)):
        answer = by_prompt[question["prompt"]]["answer"]
        choice = answer if right else 1 - answer
        r = await client.post(
            f"/api/v1/qbank-tests/{test['id']}/answers",
            json={"question_id": question["id"], "choice": choice},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "in_progress"
        assert all(q["correct"] is None for q in r.json()["questions"])
        assert all("answer" not in q for q in r.json()["questions"])
    r = await client.post(f"/api/v1/qbank-tests/{test['id']}/finish", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    assert r.json()["score"] == 0.5
    assert [q["correct"] for q in r.json()["questions"]] == [True, True, False, False]
    # Once finished, each question shows its correct answer, for the feedback.
    assert [q["answer"] for q in r.json()["questions"]] == [
        by_prompt[q["prompt"]]["answer"] for q in r.json()["questions"]
    ]
    # Finishing again changes nothing.
    r = await client.post(f"/api/v1/qbank-tests/{test['id']}/finish", headers=headers)
    assert r.json()["score"] == 0.5
    r = await client.get(
        f"/api/v1/admin/courses/{room.course['id']}/qbank-statistics",
        headers=room.admin.headers,
    )
    assert r.status_code == 200, r.text
    stats = r.json()
    assert (stats["questions"], stats["attempts"], stats["correct"]) == (10, 4, 2)
    assert stats["share_correct"] == 0.5
    by_id = {q["id"]: q for q in stats["by_question"]}
    assert by_id[first["id"]]["attempts"] == 1
    assert by_id[first["id"]]["share_correct"] == 1
    assert by_id[third["id"]]["correct"] == 0
    assert by_id[test["questions"][3]["id"]]["attempts"] == 1
    assert by_id[test["questions"][3]["id"]]["correct"] == 0
    r = await audited(client, room.admin.headers)
    assert r.status_code == 200, r.text
    # The maintained statistics agree with the audit's recount from the answers.
    assert r.json()["ok"], r.json()["findings"]
    r = await client.get(
        f"/api/v1/admin/courses/{room.course['id']}/qbank-statistics", headers=headers
    )
    assert r.status_code == 403


async def test_a_topic_test_draws_only_that_topic_and_can_be_abandoned(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    headers = room.learner.headers
    r = await client.post(
        f"/api/v1/courses/{room.course['id']}/qbank-tests",
        json={"count": 50, "topic": "odd"},
        headers=headers,
    )
    assert r.status_code == 201
    assert {q["topic"] for q in r.json()["questions"]} == {"odd"}
    assert len(r.json()["questions"]) == 5
    test_id = r.json()["id"]
    r = await client.post(f"/api/v1/qbank-tests/{test_id}/abandon", headers=headers)
    assert r.json()["status"] == "abandoned"
    r = await client.post(f"/api/v1/qbank-tests/{test_id}/finish", headers=headers)
    assert r.status_code == 409
    drawn = (await client.get(f"/api/v1/qbank-tests/{test_id}", headers=headers)).json()
    question_id = drawn["questions"][0]["id"]
    r = await client.post(
        f"/api/v1/qbank-tests/{test_id}/answers",
        json={"question_id": question_id, "choice": 0},
        headers=headers,
    )
    assert r.status_code == 409
    async with world.db.session() as session:
        assert await session.scalar(select(func.sum(QbankQuestion.attempts))) == 0


async def test_a_required_qbank_pass_counts_toward_progress(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client, qbank_required=True, qbank_pass_mark=0.5)
    headers = room.learner.headers
    by_prompt = {q["prompt"]: q for q in QBANK}
    for right_answers, expected in ((0, 0), (2, 25)):
        r = await client.post(
            f"/api/v1/courses/{room.course['id']}/qbank-tests", json={"count": 2}, headers=headers
        )
        test = r.json()
        for question in test["questions"][:right_answers]:
            await client.post(
                f"/api/v1/qbank-tests/{test['id']}/answers",
                json={
                    "question_id": question["id"],
                    "choice": by_prompt[question["prompt"]]["answer"],
                },
                headers=headers,
            )
        await client.post(f"/api/v1/qbank-tests/{test['id']}/finish", headers=headers)
        assert (await room.enrollment(client))["progress"] == expected


async def test_bad_qbank_input_is_rejected_and_writes_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    room = await classroom(world, client)
    other_admin = await world.admin("Southwind College")
    outsider = await world.student(other_admin.institution_slug)
    headers = room.learner.headers
    url = f"/api/v1/courses/{room.course['id']}/qbank-tests"
    for body in ({"count": 0}, {"count": "3"}, {"count": 3, "extra": 1}, {"count": 1000}):
        assert (await client.post(url, json=body, headers=headers)).status_code == 422
    assert (await client.post(url, json={"count": 3}, headers=outsider.headers)).status_code == 404
    assert (
        await client.post(url, json={"count": 3}, headers=room.admin.headers)
    ).status_code == 403
    r = await client.post(url, json={"count": 3, "topic": "nope"}, headers=headers)
    assert r.status_code == 409
    test = (await client.post(url, json={"count": 3}, headers=headers)).json()
    answers = f"/api/v1/qbank-tests/{test['id']}/answers"
    for body, code in (
        ({"question_id": 999999, "choice": 0}, 422),
        ({"question_id": test["questions"][0]["id"], "choice": 7}, 422),
        ({"question_id": test["questions"][0]["id"], "choice": -1}, 422),
        ({"question_id": test["questions"][0]["id"]}, 422),
    ):
        assert (await client.post(answers, json=body, headers=headers)).status_code == code
    other = await world.student(room.admin.institution_slug)
    r = await client.post(
        answers,
        json={"question_id": test["questions"][0]["id"], "choice": 0},
        headers=other.headers,
    )
    assert r.status_code == 404
    assert (
        await client.get(f"/api/v1/qbank-tests/{test['id']}", headers=other.headers)
    ).status_code == 404
    async with world.db.session() as session:
        statuses = (await session.scalars(select(QbankTest.status))).all()
    assert statuses == ["pending"]
