import httpx

from tests.factories import World


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_request_and_approve(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin)
    r = await client.post(
        f"/api/v1/courses/{course['id']}/access-requests", headers=student.headers
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    r = await client.post(
        f"/api/v1/admin/access-requests/{request_id}/approve", headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    assert r.json()["enrollment"]["status"] == "active"
    r = await client.get("/api/v1/courses", headers=student.headers)
    assert [c["enrollment_status"] for c in r.json()] == ["active"]
