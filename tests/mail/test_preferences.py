"""Learners choose per kind: immediately, a daily digest, or none; every message's unsubscribe
link stops its kind without signing in, and a forged one stops nothing."""

from datetime import timedelta

import httpx

from lectern.mail.worker import MailWorker
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.factories import Person, World
from tests.mail.conftest import Mailbox
from tests.mail.test_outbox import enroll_by_admin, outbox


async def choose(client: httpx.AsyncClient, student: Person, **choices: str) -> dict[str, str]:
    r = await client.patch(
        "/api/v1/me/mail-preferences", json={"choices": choices}, headers=student.headers
    )
    assert r.status_code == 200, r.text
    return dict(r.json()["choices"])


async def test_every_kind_comes_immediately_until_chosen_otherwise(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    r = await client.get("/api/v1/me/mail-preferences", headers=student.headers)
    assert set(r.json()["choices"].values()) == {"immediately"}
    chosen = await choose(client, student, enrolled="daily_digest", certificate_issued="none")
    assert chosen["enrolled"] == "daily_digest"
    assert chosen["certificate_issued"] == "none"
    assert chosen["request_reviewed"] == "immediately"


async def test_an_unknown_kind_or_choice_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    for choices in ({"spam": "none"}, {"enrolled": "weekly"}, {"password_reset": "none"}):
        r = await client.patch(
            "/api/v1/me/mail-preferences", json={"choices": choices}, headers=student.headers
        )
        assert r.status_code == 422, (choices, r.text)


async def test_none_writes_no_message(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await choose(client, student, enrolled="none")
    await enroll_by_admin(client, admin, student)
    assert await outbox(db) == []


async def test_a_daily_digest_folds_a_days_messages_into_one(
    world: World, client: httpx.AsyncClient, db: Database, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await choose(client, student, enrolled="daily_digest")
    await enroll_by_admin(client, admin, student)
    await enroll_by_admin(client, admin, student)
    assert [m["status"] for m in await outbox(db)] == ["held", "held"]
    assert await worker.deliver_due() == []
    assert await worker.deliver_due(utcnow() + timedelta(hours=23)) == []

    [outcome] = await worker.deliver_due(utcnow() + timedelta(days=1, minutes=1))
    assert outcome.status == "sent"
    [digest] = mailbox.messages
    assert digest["Subject"] == "Your Lectern digest: 2 updates"
    text = digest.get_body(("plain",))
    assert text is not None
    assert str(text.get_content()).count("You are enrolled in Optics") == 2
    assert [m["status"] for m in await outbox(db)] == ["digested", "digested", "sent"]
    assert await worker.deliver_due(utcnow() + timedelta(days=3)) == []


async def test_the_unsubscribe_link_stops_its_kind_without_signing_in(
    world: World, client: httpx.AsyncClient, db: Database, worker: MailWorker, mailbox: Mailbox
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    await worker.deliver_due()
    link = mailbox.messages[0]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://localhost:8000")

    page = await client.get(path)
    assert page.status_code == 200
    assert "Unsubscribe" in page.text
    assert (await client.get("/api/v1/me/mail-preferences", headers=student.headers)).json()[
        "choices"
    ]["enrolled"] == "immediately"  # following the link changes nothing; its button does

    one_click = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200, one_click.text
    r = await client.get("/api/v1/me/mail-preferences", headers=student.headers)
    assert r.json()["choices"]["enrolled"] == "none"
    assert r.json()["choices"]["request_reviewed"] == "immediately"
    await enroll_by_admin(client, admin, student)
    assert len(await outbox(db)) == 1


async def test_a_forged_unsubscribe_link_stops_nothing(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    victim = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    await enroll_by_admin(client, admin, victim)
    own = (await outbox(db))[0]["unsubscribe_url"].partition("token=")[2]
    user, kind, signature = own.split(".")
    forged = [
        f"{victim.id}.{kind}.{signature}",  # someone else's, with one's own signature
        f"{user}.all.{signature}",  # a wider kind
        f"{user}.{kind}.{signature[:-2]}xx",
        f"{user}.{kind}",
        "not-a-token",
        f"99999999999.{kind}.{signature}",  # no such id, nor room for one
        f"\u0661.{kind}.{signature}",  # a digit, but not an ASCII one
    ]
    for token in forged:
        r = await client.post("/api/v1/mail/unsubscribe", params={"token": token})
        assert r.status_code == 422, (token, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    page = await client.post("/mail/unsubscribe", params={"token": forged[0]})
    assert page.status_code == 422
    assert "This unsubscribe link is not valid." in page.text
    for person in (student, victim):
        r = await client.get("/api/v1/me/mail-preferences", headers=person.headers)
        assert set(r.json()["choices"].values()) == {"immediately"}
    ok = await client.post("/api/v1/mail/unsubscribe", params={"token": own})
    assert ok.json() == {"stopped": ["enrolled"]}


async def test_admins_read_their_institutions_mail(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    other = await world.admin("Other Academy")
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    r = await client.get("/api/v1/admin/mail", headers=admin.headers)
    assert [m["subject"] for m in r.json()] == ["You are enrolled in Optics"]
    assert (await client.get("/api/v1/admin/mail", headers=other.headers)).json() == []
    assert (await client.get("/api/v1/admin/mail", headers=student.headers)).status_code == 403
