"""The gradebook's columns and cells; payments and certificates reports; reading a report a
page at a time."""

import csv
import io
from typing import Any

import httpx
from sqlalchemy import select

from lectern.models import User
from lectern.platform.db import Database
from lectern.reports.cells import csv_stream
from lectern.reports.pages import keyset_pages
from tests.factories import Person, World

REPORTS = "/api/v1/admin/reports"
QUESTION = {"prompt": "Two and two?", "choices": ["3", "4"], "answer": 1}


def _table(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def _course_with_reading_quiz_and_bank(world: World, admin: Person) -> dict[str, Any]:
    return await world.course(
        admin,
        title="Arithmetic",
        access="open",
        chapters=[
            {
                "title": "Basics",
                "lessons": [
                    {"title": "Read me", "kind": "reading"},
                    {"title": "Check", "kind": "quiz", "pass_mark": 0.5, "questions": [QUESTION]},
                ],
            }
        ],
        qbank=[{**QUESTION, "topic": "sums"}],
    )


async def test_the_gradebook_has_each_lesson_and_the_qbank_per_learner(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    ada = await world.student(admin.institution_slug, "Ada")
    bob = await world.student(admin.institution_slug, "Bob")
    course = await _course_with_reading_quiz_and_bank(world, admin)
    reading, quiz = course["chapters"][0]["lessons"]
    for student in (ada, bob):
        r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
        assert r.status_code == 201, r.text
    done = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": reading["id"]}]},
        headers=ada.headers,
    )
    assert done.status_code == 200, done.text
    attempt = await client.post(
        f"/api/v1/lessons/{quiz['id']}/quiz-attempts", json={"answers": [1]}, headers=ada.headers
    )
    assert attempt.status_code in (200, 201), attempt.text
    test = await client.post(
        f"/api/v1/courses/{course['id']}/qbank-tests", json={"count": 1}, headers=ada.headers
    )
    assert test.status_code == 201, test.text
    question = test.json()["questions"][0]["id"]
    await client.post(
        f"/api/v1/qbank-tests/{test.json()['id']}/answers",
        json={"question_id": question, "choice": 1},
        headers=ada.headers,
    )
    finished = await client.post(
        f"/api/v1/qbank-tests/{test.json()['id']}/finish", headers=ada.headers
    )
    assert finished.status_code == 200, finished.text

    table = _table(
        await client.get(f"{REPORTS}/courses/{course['id']}/gradebook", headers=admin.headers)
    )

    assert table[0] == [
        "learner",
        "email",
        "status",
        "progress",
        "Read me (completed)",
        "Check (best score)",
        "qbank_tests_finished",
        "qbank_best_score",
    ]
    learners = {row[0]: row for row in table[1:]}
    assert learners["Ada"][4:] == ["yes", "1.0", "1", "1.0"]
    assert learners["Bob"][4:] == ["no", "", "0", ""]


async def test_the_payments_report_has_each_payment_in_the_currencys_unit_for_its_admins_only(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    buyer = await world.student(admin.institution_slug, "Buyer")
    course = await world.course(admin, title="Paid", access="paid", price_cents=4900)
    checkout = await client.post(f"/api/v1/courses/{course['id']}/checkout", headers=buyer.headers)
    assert checkout.status_code in (200, 201), checkout.text
    other = await world.admin("Other School")

    payments = _table(await client.get(f"{REPORTS}/payments", headers=admin.headers))
    pending = _table(
        await client.get(f"{REPORTS}/payments", params={"status": "pending"}, headers=admin.headers)
    )
    theirs = _table(await client.get(f"{REPORTS}/payments", headers=other.headers))
    certificates = _table(await client.get(f"{REPORTS}/certificates", headers=other.headers))

    assert payments[0] == [
        "payment_id", "learner", "email", "course_id", "course", "provider", "amount",
        "currency", "status", "created_at", "completed_at", "refunded_at",
    ]  # fmt: skip
    assert [row[1:9] for row in payments[1:]] == [
        ["Buyer", buyer.email, str(course["id"]), "Paid", "test", "49.0", "usd", "pending"]
    ]
    assert pending[1:] == payments[1:]
    assert theirs[1:] == []
    assert certificates == [["code", "learner", "email", "course_id", "course", "issued_at"]]


async def test_keyset_pages_read_every_row_once_a_page_at_a_time(
    world: World, db: Database
) -> None:
    admin = await world.admin()
    for _ in range(4):
        await world.student(admin.institution_slug)

    async with db.session() as session:
        query = select(User.id, User.full_name)
        pages = [page async for page in keyset_pages(session, query, User.id, size=2)]

    assert [len(page) for page in pages] == [2, 2, 1]
    ids = [row[0] for page in pages for row in page]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5


async def test_the_csv_stream_yields_one_chunk_per_page_without_holding_the_rows() -> None:
    pages_read = []

    async def pages() -> Any:
        for n in range(3):
            pages_read.append(n)
            yield [[n, f"=cmd{n}"], [n, "plain"]]

    chunks = []
    async for chunk in csv_stream(("n", "text"), pages()):
        chunks.append(chunk)
        # Each chunk is out before the next page is read: nothing accumulates.
        assert len(pages_read) == max(0, len(chunks) - 1)

    assert len(chunks) == 4
    assert chunks[1] == b"0,'=cmd0\r\n0,plain\r\n"
