"""Admins configure their institution's identity providers; nobody else sees or uses them."""

from typing import Any

import pytest
from sqlalchemy import select

from lectern.models import OidcProvider, User
from lectern.platform.db import Database
from tests.factories import PASSWORD, World
from tests.oidc.conftest import DOMAIN, Browser, add_provider, counts
from tests.oidc.identity_provider import CLIENT_SECRET, IdentityProvider

PROVIDERS = "/api/v1/admin/oidc/providers"


async def test_the_client_secret_is_never_sent_back(world: World, idp: IdentityProvider) -> None:
    admin = await world.admin()
    created = await add_provider(world, admin, idp)
    answers = [
        created,
        (await world.client.get(PROVIDERS, headers=admin.headers)).json(),
        (await world.client.get(f"{PROVIDERS}/{created['id']}", headers=admin.headers)).json(),
        (
            await world.client.patch(
                f"{PROVIDERS}/{created['id']}", json={"name": "Renamed"}, headers=admin.headers
            )
        ).json(),
    ]
    for answer in answers:
        assert CLIENT_SECRET not in str(answer)
        assert "client_secret" not in str(answer)
    assert created["redirect_uri"] == "http://testserver/oidc/callback"
    assert created["sign_in_url"] == f"http://testserver/login?institution={admin.institution_slug}"


async def test_a_change_without_a_secret_keeps_it(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    changed = await world.client.patch(
        f"{PROVIDERS}/{provider['id']}",
        json={"name": "Northwind SSO", "email_domain": f"@{DOMAIN.upper()}"},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["email_domain"]) == ("Northwind SSO", DOMAIN)
    idp.person = {"sub": "s", "email": f"carol@{DOMAIN}", "email_verified": True}
    # The provider still accepts the secret Lectern sends.
    assert (await visitor.sign_in(provider["id"])).status_code == 303


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issuer": "http://login.example.edu"}, "issuer"),
        ({"issuer": "ftp://login.example.edu"}, "issuer"),
        ({"issuer": "https://login.example.edu?x=1"}, "issuer"),
        ({"email_domain": "not a domain"}, "email_domain"),
        ({"email_domain": "localhost"}, "email_domain"),
        ({"client_secret": ""}, "client_secret"),
        ({"name": "x" * 101}, "name"),
        ({"client_id": "a\x00b"}, "client_id"),
    ],
)
async def test_a_bad_provider_is_refused_and_changes_nothing(
    world: World, db: Database, body: dict[str, Any], field: str
) -> None:
    admin = await world.admin()
    full = {
        "name": "X",
        "issuer": "https://login.example.edu",
        "client_id": "c",
        "client_secret": "s",
        "email_domain": DOMAIN,
        **body,
    }
    answer = await world.client.post(PROVIDERS, json=full, headers=admin.headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in answer.text.lower()
    async with db.session() as session:
        assert list(await session.scalars(select(OidcProvider))) == []


async def test_a_null_in_a_change_is_refused(world: World, idp: IdentityProvider) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    answer = await world.client.patch(
        f"{PROVIDERS}/{provider['id']}", json={"client_secret": None}, headers=admin.headers
    )
    assert answer.status_code == 422


async def test_the_same_issuer_and_client_twice_is_a_conflict(
    world: World, idp: IdentityProvider
) -> None:
    admin = await world.admin()
    await add_provider(world, admin, idp)
    body = {
        "name": "Again",
        "issuer": idp.issuer,
        "client_id": "lectern-test-client",
        "client_secret": "x",
        "email_domain": DOMAIN,
    }
    answer = await world.client.post(PROVIDERS, json=body, headers=admin.headers)
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/oidc-provider-exists")


async def test_testing_the_connection_fetches_discovery_and_keys(
    world: World, idp: IdentityProvider
) -> None:
    admin = await world.admin()
    good = await add_provider(world, admin, idp)
    dead = await add_provider(world, admin, idp, issuer="http://127.0.0.1:9", client_id="other")

    ok = (await world.client.post(f"{PROVIDERS}/{good['id']}/test", headers=admin.headers)).json()
    assert ok["ok"] is True
    assert ok["signing_keys"] == 1
    assert ok["token_endpoint"] == f"{idp.issuer}/token"
    down = await world.client.post(f"{PROVIDERS}/{dead['id']}/test", headers=admin.headers)
    assert down.status_code == 200
    assert down.json()["ok"] is False
    assert "could not be fetched" in down.json()["detail"]


async def test_only_admins_configure_providers(world: World, idp: IdentityProvider) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    student = await world.student(admin.institution_slug)
    for method, path in [
        ("GET", PROVIDERS),
        ("GET", f"{PROVIDERS}/{provider['id']}"),
        ("POST", f"{PROVIDERS}/{provider['id']}/test"),
        ("GET", f"{PROVIDERS}/{provider['id']}/sign-ins"),
        ("DELETE", f"{PROVIDERS}/{provider['id']}"),
    ]:
        answer = await world.client.request(method, path, headers=student.headers)
        assert answer.status_code == 403, (method, path)


async def test_another_institutions_provider_is_not_found(
    world: World, idp: IdentityProvider
) -> None:
    ours = await world.admin("Northwind Academy")
    theirs = await world.admin("Southwind College")
    provider = await add_provider(world, theirs, idp)
    for method, path, body in [
        ("GET", f"{PROVIDERS}/{provider['id']}", None),
        ("PATCH", f"{PROVIDERS}/{provider['id']}", {"enabled": False}),
        ("POST", f"{PROVIDERS}/{provider['id']}/test", None),
        ("GET", f"{PROVIDERS}/{provider['id']}/sign-ins", None),
        ("DELETE", f"{PROVIDERS}/{provider['id']}", None),
    ]:
        answer = await world.client.request(method, path, json=body, headers=ours.headers)
        assert answer.status_code == 404, (method, path)
    assert (await world.client.get(PROVIDERS, headers=ours.headers)).json() == []
    still = await world.client.get(f"{PROVIDERS}/{provider['id']}", headers=theirs.headers)
    assert still.json()["enabled"] is True


async def test_another_institutions_provider_cannot_sign_into_this_institution(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    ours = await world.admin("Northwind Academy")
    theirs = await world.admin("Southwind College")
    registered = await world.client.post(
        "/api/v1/auth/register",
        json={
            "institution": ours.institution_slug,
            "email": f"dana@{DOMAIN}",
            "password": PASSWORD,
            "full_name": "Dana",
        },
    )
    assert registered.status_code == 201
    # Their admin claims our domain for their provider, whose people include our Dana.
    provider = await add_provider(world, theirs, idp)
    idp.person = {"sub": "dana", "email": f"dana@{DOMAIN}", "email_verified": True}
    before = await counts(db)

    answer = await visitor.sign_in(provider["id"])

    assert answer.status_code == 409
    assert (await visitor.me()).status_code == 401
    assert await counts(db) == before
    # Someone new through their provider becomes theirs, never ours.
    idp.person = {"sub": "erin", "email": f"erin@{DOMAIN}", "email_verified": True}
    assert (await visitor.sign_in(provider["id"])).status_code == 303
    me = (await visitor.me()).json()
    assert me["institution"]["id"] == theirs.institution_id
    async with db.session() as session:
        ours_now = await session.scalars(
            select(User.email).where(User.institution_id == ours.institution_id)
        )
        assert f"erin@{DOMAIN}" not in list(ours_now)


async def test_the_sign_in_page_offers_enabled_providers(
    world: World, idp: IdentityProvider, visitor: Browser
) -> None:
    ours = await world.admin("Northwind Academy")
    theirs = await world.admin("Southwind College")
    offered = await add_provider(world, ours, idp)
    hidden = await add_provider(world, ours, idp, client_id="off", name="Old", enabled=False)
    await add_provider(world, theirs, idp, name="Southwind account")

    listed = await world.client.get(
        "/api/v1/oidc/providers", params={"institution": ours.institution_slug}
    )
    assert [(p["id"], p["name"], p["start_url"]) for p in listed.json()] == [
        (offered["id"], "Northwind account", f"/oidc/{offered['id']}/start")
    ]
    everyone = (await world.client.get("/api/v1/oidc/providers")).json()
    assert {p["name"] for p in everyone} == {"Northwind account", "Southwind account"}
    start = await visitor.app.get(f"/oidc/{hidden['id']}/start")
    assert start.status_code == 404
    login = await visitor.app.get("/login")
    assert 'id="oidc-providers"' in login.text


async def test_the_admin_page_lists_providers_and_their_sign_ins(
    world: World, idp: IdentityProvider, visitor: Browser
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = {"sub": "f", "email": f"frank@{DOMAIN}", "email_verified": True}
    assert (await visitor.sign_in(provider["id"])).status_code == 303
    login = await world.client.post(
        "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
    )
    assert login.status_code == 200

    page = await world.client.get("/admin/sign-in")

    assert page.status_code == 200
    assert "Northwind account" in page.text
    assert f"frank@{DOMAIN}" in page.text
    assert "http://testserver/oidc/callback" in page.text
    assert CLIENT_SECRET not in page.text
