"""Password reset and e-mail change by e-mailed, single-use, expiring links."""

import re
from datetime import timedelta

import httpx
from sqlalchemy import select, text

from lectern.models import AccountLink
from lectern.platform.db import Database
from tests.factories import PASSWORD, Person, World
from tests.rows import rows

NEW_PASSWORD = "lantern quietly orbits marble"


async def link_token(db: Database, kind: str) -> str:
    [message] = await rows(
        db,
        "SELECT text_body FROM mail_outbox WHERE kind = :kind ORDER BY id DESC LIMIT 1",
        kind=kind,
    )
    found = re.search(r"token=([\w-]+)", message["text_body"])
    assert found is not None
    return found.group(1)


async def ask_reset(client: httpx.AsyncClient, email: str) -> None:
    r = await client.post("/api/v1/auth/password-reset", json={"email": email})
    assert r.status_code == 202, r.text


async def confirm_reset(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )


async def signs_in(client: httpx.AsyncClient, person: Person, password: str) -> bool:
    r = await client.post("/api/v1/auth/tokens", json={"email": person.email, "password": password})
    return r.status_code == 201


async def test_a_reset_is_asked_for_with_the_same_answer_whether_the_address_exists(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await ask_reset(client, "nobody@example.test")
    assert await rows(db, "SELECT id FROM mail_outbox") == []
    await ask_reset(client, student.email.upper())
    [message] = await rows(db, "SELECT kind, to_address, subject FROM mail_outbox")
    assert message == {
        "kind": "password_reset",
        "to_address": student.email,
        "subject": "Reset your Lectern password",
    }


async def test_a_reset_link_sets_the_password_once_and_ends_every_session(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await ask_reset(client, student.email)
    token = await link_token(db, "password_reset")
    assert await rows(db, "SELECT id FROM account_links WHERE token_hash = :t", t=token) == []

    r = await confirm_reset(client, token)
    assert r.status_code == 204, r.text
    assert (await client.get("/api/v1/me", headers=student.headers)).status_code == 401
    assert not await signs_in(client, student, PASSWORD)
    assert await signs_in(client, student, NEW_PASSWORD)

    again = await confirm_reset(client, token)
    assert again.status_code == 422
    assert again.json()["type"].endswith("/dead-link")


async def test_a_reset_link_expires_after_an_hour(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await ask_reset(client, student.email)
    token = await link_token(db, "password_reset")
    async with db.session() as session:
        link = (await session.scalars(select(AccountLink))).one()
    assert link.expires_at - link.created_at == timedelta(hours=1)
    async with db.session() as session:
        await session.execute(text("UPDATE account_links SET expires_at = created_at"))
        await session.commit()
    r = await confirm_reset(client, token)
    assert r.status_code == 422
    assert await signs_in(client, student, PASSWORD)


async def test_a_newer_reset_link_replaces_the_older(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await ask_reset(client, student.email)
    first = await link_token(db, "password_reset")
    await ask_reset(client, student.email)
    second = await link_token(db, "password_reset")
    assert (await confirm_reset(client, first)).status_code == 422
    assert (await confirm_reset(client, second)).status_code == 204


async def test_a_forged_reset_token_or_weak_password_is_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await confirm_reset(client, "made-up")
    assert r.status_code == 422
    weak = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "made-up", "new_password": "password"}
    )
    assert weak.status_code == 422


async def test_an_email_change_is_confirmed_from_the_new_address_and_the_old_is_told(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    r = await client.post(
        "/api/v1/me/email",
        json={"email": "new.me@example.test", "current_password": PASSWORD},
        headers=student.headers,
    )
    assert r.status_code == 202, r.text
    [asked] = await rows(db, "SELECT kind, to_address FROM mail_outbox")
    assert asked == {"kind": "email_change", "to_address": "new.me@example.test"}
    assert (await client.get("/api/v1/me", headers=student.headers)).json()[
        "email"
    ] == student.email

    token = await link_token(db, "email_change")
    confirmed = await client.post("/api/v1/auth/email-change/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == "new.me@example.test"
    told = await rows(
        db, "SELECT to_address, text_body FROM mail_outbox WHERE kind = 'email_changed'"
    )
    assert [m["to_address"] for m in told] == [student.email]
    assert "new.me@example.test" in told[0]["text_body"]
    r = await client.post(
        "/api/v1/auth/tokens", json={"email": "new.me@example.test", "password": PASSWORD}
    )
    assert r.status_code == 201
    again = await client.post("/api/v1/auth/email-change/confirm", json={"token": token})
    assert again.status_code == 422


async def test_an_email_change_to_a_taken_address_or_without_the_password_is_refused(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    for body, status in (
        ({"email": admin.email, "current_password": PASSWORD}, 409),
        ({"email": "fresh@example.test", "current_password": "not the password"}, 403),
        ({"email": "not an address", "current_password": PASSWORD}, 422),
    ):
        r = await client.post("/api/v1/me/email", json=body, headers=student.headers)
        assert r.status_code == status, (body, r.text)
    assert await rows(db, "SELECT id FROM mail_outbox") == []


async def test_reset_links_for_one_address_are_limited_whether_or_not_it_exists(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    for address in (student.email, "nobody.limited@example.test"):
        for _ in range(5):
            await ask_reset(client, address)
        r = await client.post("/api/v1/auth/password-reset", json={"email": address})
        assert r.status_code == 429, r.text
    assert len(await rows(db, "SELECT id FROM mail_outbox")) == 5
