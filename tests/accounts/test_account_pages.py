"""The account pages without a browser: reset, e-mail confirmation, the student's profile, and
the admins' Mail page that shows the outbox when no SMTP server is configured."""

import httpx

from tests.factories import PASSWORD, Person, World
from tests.mail.test_outbox import enroll_by_admin


async def log_in(client: httpx.AsyncClient, person: Person) -> None:
    r = await client.post("/api/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert r.status_code == 200, r.text


async def test_the_reset_page_asks_for_the_address_or_with_a_link_for_the_new_password(
    client: httpx.AsyncClient,
) -> None:
    asking = await client.get("/reset-password")
    assert asking.status_code == 200
    assert 'id="reset-request-form"' in asking.text
    assert 'href="/reset-password"' in (await client.get("/login")).text
    choosing = await client.get("/reset-password", params={"token": "abc"})
    assert 'id="reset-confirm-form"' in choosing.text
    assert 'data-token="abc"' in choosing.text
    confirming = await client.get("/confirm-email", params={"token": "abc"})
    assert 'id="confirm-email-form"' in confirming.text


async def test_the_profile_page_shows_the_students_profile_and_mail_choices(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await client.patch(
        "/api/v1/me/profile",
        json={"bio": "Tide pools.", "languages": ["fr", "en"]},
        headers=student.headers,
    )
    await client.patch(
        "/api/v1/me/mail-preferences",
        json={"choices": {"enrolled": "none"}},
        headers=student.headers,
    )
    assert (await client.get("/learn/profile")).headers["location"] == "/login?next=/learn/profile"
    await log_in(client, student)
    page = await client.get("/learn/profile")
    assert page.status_code == 200
    assert "Tide pools." in page.text
    assert 'value="fr, en"' in page.text
    assert '<option value="none" selected>' in page.text
    assert 'href="/learn/profile" aria-current="page"' in page.text


async def test_admins_read_the_kept_mail_on_the_mail_page(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    await enroll_by_admin(client, admin, student)
    await log_in(client, admin)
    page = await client.get("/admin/mail")
    assert page.status_code == 200
    assert "No mail server is configured" in page.text
    assert "You are enrolled in Optics" in page.text
    assert student.email in page.text
