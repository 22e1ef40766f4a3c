"""A person's name and student profile; admins suspend and restore accounts."""

import httpx

from lectern.platform.db import Database
from tests.factories import PASSWORD, World


async def test_a_student_changes_their_name_and_profile(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    r = await client.patch("/api/v1/me", json={"full_name": "Ada Byron"}, headers=student.headers)
    assert r.status_code == 200
    assert r.json()["full_name"] == "Ada Byron"
    assert (await client.get("/api/v1/me", headers=student.headers)).json()["full_name"] == (
        "Ada Byron"
    )
    empty = await client.get("/api/v1/me/profile", headers=student.headers)
    assert empty.json() == {"user_id": student.id, "bio": "", "languages": [], "interests": []}
    r = await client.patch(
        "/api/v1/me/profile",
        json={"bio": "Engines.", "languages": ["en", "it", "en"], "interests": ["maths"]},
        headers=student.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.patch("/api/v1/me/profile", json={"bio": "Poetry."}, headers=student.headers)
    assert r.json() == {
        "user_id": student.id,
        "bio": "Poetry.",
        "languages": ["en", "it"],
        "interests": ["maths"],
    }


async def test_bad_names_and_profiles_are_refused(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    for path, body in (
        ("/api/v1/me", {"full_name": ""}),
        ("/api/v1/me", {"full_name": "x" * 201}),
        ("/api/v1/me/profile", {"languages": [""]}),
        ("/api/v1/me/profile", {"interests": ["x"] * 51}),
        ("/api/v1/me/profile", {"bio": 5}),
    ):
        r = await client.patch(path, json=body, headers=student.headers)
        assert r.status_code == 422, (path, body, r.text)
    staff = await client.get("/api/v1/me/profile", headers=admin.headers)
    assert staff.status_code == 403


async def test_suspending_ends_an_existing_session_at_once_and_restoring_lets_them_in(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    login = {"email": student.email, "password": PASSWORD}
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as tab:
        assert (await tab.post("/api/v1/auth/login", json=login)).status_code == 200
        assert (await tab.get("/api/v1/me")).status_code == 200

        r = await client.post(f"/api/v1/admin/users/{student.id}/suspend", headers=admin.headers)
        assert r.status_code == 200
        assert r.json()["suspended_at"] is not None
        assert (await tab.get("/api/v1/me")).status_code == 401
        assert (await client.get("/api/v1/me", headers=student.headers)).status_code == 401
        refused = await client.post("/api/v1/auth/login", json=login)
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/suspended")

        again = await client.post(
            f"/api/v1/admin/users/{student.id}/suspend", headers=admin.headers
        )
        assert again.json()["suspended_at"] == r.json()["suspended_at"]
        restored = await client.post(
            f"/api/v1/admin/users/{student.id}/restore", headers=admin.headers
        )
        assert restored.status_code == 200
        assert restored.json()["suspended_at"] is None
        assert (await tab.get("/api/v1/me")).status_code == 401  # its old session stays ended
        assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200


async def test_only_an_admin_of_the_institution_suspends_and_not_themselves(
    world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin()
    stranger = await world.admin("Other Academy")
    student = await world.student(admin.institution_slug)
    path = f"/api/v1/admin/users/{student.id}/suspend"
    assert (await client.post(path, headers=stranger.headers)).status_code == 404
    assert (await client.post(path, headers=student.headers)).status_code == 403
    own = await client.post(f"/api/v1/admin/users/{admin.id}/suspend", headers=admin.headers)
    assert own.status_code == 403
    unknown = await client.post("/api/v1/admin/users/999999/restore", headers=admin.headers)
    assert unknown.status_code == 404
    assert (await client.get("/api/v1/me", headers=student.headers)).status_code == 200
