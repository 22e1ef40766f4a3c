"""Registration, logins, tokens, the caller, and deleting a person with everything only theirs."""

import httpx
import pytest

from lectern.accounts import service as accounts_service
from lectern.platform.db import Database
from tests.factories import PASSWORD, Person, World
from tests.rows import (
    event_types,
    insert_learning_facts,
    last_event_id,
    row_counts,
    rows,
    scalar,
)


async def _register(
    client: httpx.AsyncClient, slug: str, email: str = "new@example.test"
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/register",
        json={"institution": slug, "email": email, "password": PASSWORD, "full_name": "Nia New"},
    )


async def test_register_makes_user_profile_and_default_enrollments(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    default = await world.course(admin, access="default")
    await world.course(admin, access="default", status="draft")
    await world.course(admin, access="open")
    start = await last_event_id(db)

    r = await _register(client, admin.institution_slug)

    assert r.status_code == 201, r.text
    user = r.json()
    assert (user["email"], user["role"], user["institution_id"]) == (
        "new@example.test",
        "student",
        admin.institution_id,
    )
    assert "password_hash" not in user
    assert (
        await scalar(db, "SELECT count(*) FROM student_profiles WHERE user_id = :u", u=user["id"])
        == 1
    )
    enrollments = await rows(
        db, "SELECT course_id, status, source FROM enrollments WHERE user_id = :u", u=user["id"]
    )
    assert enrollments == [{"course_id": default["id"], "status": "active", "source": "default"}]
    assert await event_types(db, start) == ["user.registered", "enrollment.created"]


async def test_register_twice_or_in_another_case_is_a_conflict(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    assert (await _register(client, admin.institution_slug)).status_code == 201
    before = await row_counts(db)
    for email in ("new@example.test", "NEW@Example.test"):
        r = await _register(client, admin.institution_slug, email)
        assert r.status_code == 409
        assert r.json()["type"].endswith("email-taken")
    assert await row_counts(db) == before


async def test_register_into_unknown_institution_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    before = await row_counts(db)
    r = await _register(client, "no-such-school")
    assert r.status_code == 422
    assert r.json()["type"].endswith("unknown-institution")
    assert await row_counts(db) == before


async def test_token_login_and_me(world: World, client: httpx.AsyncClient, db: Database) -> None:
    admin = await world.admin("ABC Academy")
    student = await world.student(admin.institution_slug)

    r = await client.post(
        "/api/v1/auth/tokens", json={"email": student.email.upper(), "password": PASSWORD}
    )

    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert await scalar(db, "SELECT count(*) FROM api_tokens WHERE token_hash = :t", t=token) == 0
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["id"] == student.id
    assert me.json()["role"] == "student"
    assert me.json()["institution"] == {
        "id": admin.institution_id,
        "name": "ABC Academy",
        "slug": "abc-academy",
    }


async def test_wrong_password_unknown_email_and_bad_token_are_401(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    before = await row_counts(db)
    for body in (
        {"email": admin.email, "password": "wrong password"},
        {"email": "nobody@example.test", "password": PASSWORD},
    ):
        for path in ("/api/v1/auth/login", "/api/v1/auth/tokens"):
            r = await client.post(path, json=body)
            assert r.status_code == 401
            assert r.headers["content-type"] == "application/problem+json"
    assert (
        await client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (await client.get("/api/v1/me")).status_code == 401
    assert await row_counts(db) == before


async def test_cookie_login_me_and_logout(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)

    r = await client.post("/api/v1/auth/login", json={"email": student.email, "password": PASSWORD})

    assert r.status_code == 200, r.text
    assert r.json()["id"] == student.id
    csrf = r.json()["csrf_token"]
    assert (
        await scalar(db, "SELECT count(*) FROM auth_sessions WHERE user_id = :u", u=student.id) == 1
    )
    assert (await client.get("/api/v1/me")).json()["id"] == student.id

    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert (
        await scalar(db, "SELECT count(*) FROM auth_sessions WHERE user_id = :u", u=student.id) == 0
    )
    assert (await client.get("/api/v1/me")).status_code == 401


USER_TABLES = {
    "users": "id",
    "student_profiles": "user_id",
    "auth_sessions": "user_id",
    "api_tokens": "user_id",
    "access_requests": "user_id",
    "enrollments": "user_id",
    "notifications": "user_id",
}


async def _owned_rows(db: Database, user_id: int) -> dict[str, int]:
    counts = {
        table: await scalar(db, f"SELECT count(*) FROM {table} WHERE {column} = :u", u=user_id)  # noqa: S608
        for table, column in USER_TABLES.items()
    }
    for table in ("lesson_progress", "quiz_attempts"):
        counts[table] = await scalar(
            db,
            f"SELECT count(*) FROM {table} JOIN enrollments e ON e.id = enrollment_id "  # noqa: S608
            "WHERE e.user_id = :u",
            u=user_id,
        )
    return counts


async def _student_with_everything(
    world: World, client: httpx.AsyncClient, db: Database, admin: Person
) -> Person:
    student = await world.student(admin.institution_slug)
    course = await world.course(
        admin,
        chapters=[{"title": "One", "lessons": [{"title": "Read", "kind": "reading", "body": "x"}]}],
    )
    other = await world.course(admin)
    await client.post("/api/v1/auth/login", json={"email": student.email, "password": PASSWORD})
    client.cookies.clear()
    enrollment = (
        await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": student.id, "course_id": course["id"]},
            headers=admin.headers,
        )
    ).json()
    await client.post(f"/api/v1/courses/{other['id']}/access-requests", headers=student.headers)
    await insert_learning_facts(db, enrollment["id"], course["chapters"][0]["lessons"][0]["id"])
    return student


async def test_deleting_a_user_removes_everything_only_theirs(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await _student_with_everything(world, client, db, admin)
    bystander = await _student_with_everything(world, client, db, admin)
    owned = await _owned_rows(db, student.id)
    assert all(count >= 1 for count in owned.values()), owned
    bystander_rows = await _owned_rows(db, bystander.id)

    r = await client.delete(f"/api/v1/admin/users/{student.id}", headers=admin.headers)

    assert r.status_code == 204, r.text
    assert await _owned_rows(db, student.id) == dict.fromkeys(owned, 0)
    assert await _owned_rows(db, bystander.id) == bystander_rows
    assert (
        await client.get(f"/api/v1/admin/students/{student.id}", headers=admin.headers)
    ).status_code == 404
    assert (await client.get("/api/v1/me", headers=student.headers)).status_code == 401
    again = await client.delete(f"/api/v1/admin/users/{student.id}", headers=admin.headers)
    assert again.status_code == 404


async def test_deleting_a_user_is_one_transaction(
    world: World, client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the last write of the command fails, the user and their rows all stay."""
    admin = await world.admin()
    student = await _student_with_everything(world, client, db, admin)
    owned = await _owned_rows(db, student.id)

    def failing_event(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the event log is down")

    monkeypatch.setattr(accounts_service, "record_event", failing_event)
    transport = httpx.ASGITransport(app=client._transport.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as failing:
        r = await failing.delete(f"/api/v1/admin/users/{student.id}", headers=admin.headers)
    assert r.status_code == 500
    assert await _owned_rows(db, student.id) == owned


async def test_an_admin_can_delete_a_reviewer_and_their_reviews_stay(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    reviewer = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    request = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    await client.post(
        f"/api/v1/admin/access-requests/{request.json()['id']}/approve", headers=reviewer.headers
    )
    r = await client.delete(f"/api/v1/admin/users/{reviewer.id}", headers=admin.headers)
    assert r.status_code == 204
    kept = await rows(
        db, "SELECT status, reviewer_id FROM access_requests WHERE id = :i", i=request.json()["id"]
    )
    assert kept == [{"status": "approved", "reviewer_id": None}]


async def test_a_deleted_users_id_is_never_given_to_another(
    world: World, client: httpx.AsyncClient
) -> None:
    """The event log keeps a deleted user's id: whoever got it next would match their past."""
    admin = await world.admin()
    newest = await world.student(admin.institution_slug)
    r = await client.delete(f"/api/v1/admin/users/{newest.id}", headers=admin.headers)
    assert r.status_code == 204
    newcomer = await world.student(admin.institution_slug)
    assert newcomer.id > newest.id
