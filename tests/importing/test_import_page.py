"""Each institution's admins see their part of every import, with its decisions; nobody else."""

import httpx

from lectern.importing.service import run_import
from lectern.platform.db import Database
from tests.factories import PASSWORD, World
from tests.importing.legacy_data import LegacyData


def _legacy_of(institution: str) -> LegacyData:
    data = LegacyData()
    first = data.institution(institution, days=0)
    second = data.institution(institution.upper(), days=1)
    data.user("ann@school.example", second, profile=False)
    data.course(first, default=True)
    return data


async def test_an_admin_sees_their_institutions_part_of_the_import_and_others_see_none(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    admin = await world.admin(institution="Northwind Academy")
    other = await world.admin(institution="Southwind School")
    student = await world.student(admin.institution_slug)
    report = await run_import(db, _legacy_of("Northwind Academy").tables, "legacy", apply=True)

    response = await client.get("/api/v1/admin/imports", headers=admin.headers)
    assert response.status_code == 200, response.text
    [part] = response.json()
    assert part["id"] == report["import_id"]
    assert part["decisions"]["institutions_matched_existing"] == 1
    assert part["decisions"]["institutions_merged"] == 2  # both legacy rows, into the existing one
    assert part["decisions"]["profiles_created"] == 1
    assert part["created"] == {"courses": 1, "enrollments": 1, "users": 1}

    elsewhere = await client.get("/api/v1/admin/imports", headers=other.headers)
    assert elsewhere.json() == []
    forbidden = await client.get("/api/v1/admin/imports", headers=student.headers)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"


async def test_the_import_page_is_an_admin_page(world: World, client: httpx.AsyncClient) -> None:
    admin = await world.admin()
    login = await client.post(
        "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
    )
    assert login.status_code == 200
    page = await client.get("/admin/imports")
    assert page.status_code == 200
    assert 'id="imports"' in page.text
    assert "imports.js" in page.text
