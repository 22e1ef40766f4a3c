"""The outbox: written with the event that causes it, sent after commit exactly once, retried
with doubling delays when the server refuses, and given up on a permanent refusal."""

import asyncio
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import update

from lectern.app import create_app
from lectern.enrollments.expiry import run_expiry
from lectern.mail.worker import FIRST_RETRY, MailWorker
from lectern.models import Enrollment
from lectern.models.base import utcnow
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.mail.conftest import Mailbox
from tests.rows import rows, scalar


async def enroll_by_admin(client: httpx.AsyncClient, admin: Person, student: Person) -> int:
    course = await client.post(
        "/api/v1/courses",
        json={"title": "Optics", "status": "published", "access": "approval"},
        headers=admin.headers,
    )
    r = await client.post(
        "/api/v1/admin/enrollments",
        json={"user_id": student.id, "course_id": course.json()["id"]},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    return int(course.json()["id"])


async def outbox(db: Database) -> list[dict[str, Any]]:
    return await rows(db, "SELECT * FROM mail_outbox ORDER BY id")


async def test_approving_a_request_writes_its_email_with_the_event(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, title="Botany")
    asked = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    assert await outbox(db) == []
    r = await client.post(
        f"/api/v1/admin/access-requests/{asked.json()['id']}/reject",
        json={"note": "Full this term"},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    [message] = await outbox(db)
    assert (message["kind"], message["status"], message["to_address"]) == (
        "request_reviewed",
        "pending",
        student.email,
    )
    assert message["subject"] == "Your request for Botany was rejected"
    assert "Full this term" in message["text_body"]
    assert "Full this term" in message["html_body"]


async def test_a_student_enrolling_themselves_gets_no_email(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="open")
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=student.headers)
    assert r.status_code == 201
    assert await outbox(db) == []


async def test_a_sent_message_has_text_and_html_parts_and_a_one_click_unsubscribe(
    world: World, client: httpx.AsyncClient, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    outcomes = await worker.deliver_due()
    assert [outcome.status for outcome in outcomes] == ["sent"]
    [received] = mailbox.messages
    assert received["To"] == student.email
    assert received["Subject"] == "You are enrolled in Optics"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["List-Unsubscribe"].startswith("<http")
    assert "/mail/unsubscribe?token=" in received["List-Unsubscribe"]
    parts = [part.get_content_type() for part in received.walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]


async def test_a_worker_killed_before_sending_leaves_the_message_sent_once_by_the_next(
    world: World, client: httpx.AsyncClient, db: Database, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    claimed = asyncio.Event()

    async def hang(_message: EmailMessage) -> None:
        claimed.set()
        await asyncio.Event().wait()  # killed here: claimed, never handed to the server

    doomed = MailWorker(db, worker.settings, send=hang)
    task = asyncio.create_task(doomed.deliver_next())
    await asyncio.wait_for(claimed.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    [message] = await outbox(db)
    assert (message["status"], message["attempts"]) == ("pending", 0)
    assert [o.status for o in await worker.deliver_due()] == ["sent"]
    assert await worker.deliver_due() == []
    assert mailbox.message_ids() == [message["message_id"]]
    assert await scalar(db, "SELECT status FROM mail_outbox") == "sent"


async def test_a_refusing_server_gets_the_message_again_after_doubling_delays(
    world: World, client: httpx.AsyncClient, db: Database, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    mailbox.refusals = ["451 Try again later", "451 Try again later"]
    now = utcnow()

    first = await worker.deliver_next(now)
    assert first is not None
    assert (first.status, first.attempts, first.next_attempt_at) == (
        "pending",
        1,
        now + FIRST_RETRY,
    )
    assert await worker.deliver_next(now + FIRST_RETRY / 2) is None  # not due yet
    later = now + FIRST_RETRY
    second = await worker.deliver_next(later)
    assert second is not None
    assert (second.attempts, second.next_attempt_at) == (2, later + 2 * FIRST_RETRY)
    assert "451" in (await outbox(db))[0]["last_error"]
    third = await worker.deliver_next(later + 2 * FIRST_RETRY)
    assert third is not None
    assert (third.status, third.attempts) == ("sent", 3)
    assert len(mailbox.messages) == 1


async def test_a_permanent_refusal_is_given_up_at_once(
    world: World, client: httpx.AsyncClient, db: Database, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    mailbox.refusals = ["550 No such mailbox"]
    [outcome] = await worker.deliver_due()
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert await worker.deliver_due(utcnow() + timedelta(days=2)) == []
    assert mailbox.messages == []


async def test_a_message_one_worker_is_sending_is_not_claimed_by_another(
    world: World, client: httpx.AsyncClient, db: Database, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    sending, release = asyncio.Event(), asyncio.Event()

    async def slow(message: EmailMessage) -> None:
        sending.set()
        await release.wait()
        await worker.send(message)

    first = asyncio.create_task(MailWorker(db, worker.settings, send=slow).deliver_next())
    await asyncio.wait_for(sending.wait(), 10)
    assert await worker.deliver_next() is None  # claimed by the first: skipped, not waited for
    release.set()
    outcome = await first
    assert outcome is not None
    assert outcome.status == "sent"
    assert await worker.deliver_next() is None
    assert len(mailbox.messages) == 1


async def test_an_enrollment_about_to_end_is_told_by_email(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course_id = await enroll_by_admin(client, admin, student)
    ends_at = utcnow() + timedelta(days=2)
    async with db.session() as session:
        await session.execute(
            update(Enrollment).where(Enrollment.course_id == course_id).values(ends_at=ends_at)
        )
        await session.commit()
    await db.run(lambda session: run_expiry(session, notice_days=3))
    [told] = [m for m in await outbox(db) if m["kind"] == "enrollment_expiring"]
    assert told["subject"] == "Your access to Optics ends soon"
    assert f"{ends_at:%Y-%m-%d %H:%M} UTC" in told["text_body"]


async def test_an_app_with_a_mail_server_sends_each_committed_message_by_itself(
    world: World, settings: Settings, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    smtp = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,  # type: ignore[attr-defined]
            "smtp_starttls": False,
            "mail_poll_seconds": 60.0,  # the commit wakes the worker, not the clock
        }
    )
    app = create_app(smtp)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await enroll_by_admin(http, admin, student)
        for _ in range(200):
            if mailbox.messages:
                break
            await asyncio.sleep(0.05)
    assert [str(m["Subject"]) for m in mailbox.messages] == ["You are enrolled in Optics"]


async def test_a_roster_import_emails_each_learner_it_enrolls_and_its_dry_run_none(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    ada, bob = [await world.student(admin.institution_slug) for _ in range(2)]
    course = await world.course(admin, title="Tides")
    csv = "email,course,action\n" + "".join(
        f"{person.email},{course['id']},enroll\n" for person in (ada, bob)
    )
    for dry_run in ("true", "false"):
        r = await client.post(
            "/api/v1/admin/enrollments/import",
            params={"dry_run": dry_run},
            content=csv.encode(),
            headers={**admin.headers, "Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        if dry_run == "true":
            assert await outbox(db) == []
    sent = await outbox(db)
    assert sorted(m["to_address"] for m in sent) == sorted([ada.email, bob.email])
    assert {m["subject"] for m in sent} == {"You are enrolled in Tides"}
