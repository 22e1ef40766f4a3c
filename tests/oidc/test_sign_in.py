"""Signing in through an institution's OpenID Connect provider, served by the suite."""

from typing import Any

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from lectern.models import Enrollment, OidcIdentity, StudentProfile, User
from lectern.platform.db import Database
from tests.factories import PASSWORD, World
from tests.oidc.conftest import (
    DOMAIN,
    Browser,
    add_provider,
    counts,
    metric_sample,
    opened_browser,
)
from tests.oidc.identity_provider import IdentityProvider


def person(sub: str = "alice-1", email: str = f"alice@{DOMAIN}", **claims: Any) -> dict[str, Any]:
    return {"sub": sub, "email": email, "email_verified": True, "name": "Alice Liddell", **claims}


async def test_first_sign_in_creates_the_student_with_profile_and_default_enrollments(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    admin = await world.admin()
    default = await world.course(admin, access="default")
    await world.course(admin, access="open")
    provider = await add_provider(world, admin, idp)
    idp.person = person()
    created = 'lectern_oidc_sign_ins_total{outcome="created"}'
    counted = metric_sample((await world.client.get("/metrics")).text, created)

    answer = await visitor.sign_in(provider["id"])

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/learn"
    assert metric_sample((await world.client.get("/metrics")).text, created) == counted + 1
    me = (await visitor.me()).json()
    assert (me["email"], me["full_name"], me["role"]) == (
        f"alice@{DOMAIN}",
        "Alice Liddell",
        "student",
    )
    assert me["institution"]["id"] == admin.institution_id
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.email == f"alice@{DOMAIN}"))
        assert user is not None
        assert await session.get(StudentProfile, user.id) is not None
        enrollments = list(
            await session.scalars(select(Enrollment).where(Enrollment.user_id == user.id))
        )
        assert [(e.course_id, e.source) for e in enrollments] == [(default["id"], "default")]
        identity = await session.scalar(select(OidcIdentity).where(OidcIdentity.user_id == user.id))
        assert identity is not None
        assert identity.subject == "alice-1"
    # PKCE: the code went back with a verifier, which the provider checked against the challenge.
    assert idp.token_requests[0]["code_verifier"]
    sign_ins = await world.client.get(
        f"/api/v1/admin/oidc/providers/{provider['id']}/sign-ins", headers=admin.headers
    )
    assert [(s["outcome"], s["email"]) for s in sign_ins.json()] == [("created", f"alice@{DOMAIN}")]


async def test_a_later_sign_in_links_by_subject_not_by_email(
    world: World, db: Database, idp: IdentityProvider, app: Any
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = person()
    async with opened_browser(app) as first:
        assert (await first.sign_in(provider["id"])).status_code == 303
        first_id = (await first.me()).json()["id"]
    before = await counts(db)
    # The provider now gives another address for the same subject: still the same account.
    idp.person = person(email=f"alice.liddell@{DOMAIN}")
    async with opened_browser(app) as second:
        answer = await second.sign_in(provider["id"], next_path="/learn/catalog")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/learn/catalog"
        assert (await second.me()).json()["id"] == first_id
    after = await counts(db)
    assert (after.users, after.identities, after.enrollments) == (
        before.users,
        before.identities,
        before.enrollments,
    )
    assert after.sessions == before.sessions + 1


async def test_an_existing_account_with_the_same_email_is_not_taken_over(
    world: World, db: Database, idp: IdentityProvider, visitor: Browser
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    registered = await world.client.post(
        "/api/v1/auth/register",
        json={
            "institution": admin.institution_slug,
            "email": f"bob@{DOMAIN}",
            "password": PASSWORD,
            "full_name": "Bob",
        },
    )
    assert registered.status_code == 201
    before = await counts(db)
    idp.person = person(sub="bob-at-idp", email=f"BOB@{DOMAIN}")

    answer = await visitor.sign_in(provider["id"])

    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/oidc-account-exists")
    assert "lectern_session" not in answer.cookies
    assert (await visitor.me()).status_code == 401
    assert await counts(db) == before


async def test_a_second_subject_with_a_linked_accounts_email_is_refused(
    world: World, db: Database, idp: IdentityProvider, app: Any
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = person(sub="first")
    async with opened_browser(app) as first:
        assert (await first.sign_in(provider["id"])).status_code == 303
    before = await counts(db)
    idp.person = person(sub="second")
    async with opened_browser(app) as second:
        answer = await second.sign_in(provider["id"])
        assert answer.status_code == 409
        assert (await second.me()).status_code == 401
    assert await counts(db) == before


async def test_a_provider_that_rotated_its_keys_is_fetched_again(
    world: World, idp: IdentityProvider, visitor: Browser, app: Any
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = person()
    assert (await visitor.sign_in(provider["id"])).status_code == 303
    # The key set Lectern keeps no longer has the key the next token is signed with.
    idp.key = RSAKey.generate_key(2048, auto_kid=True)
    idp.person = person(sub="bea", email=f"bea@{DOMAIN}")
    async with opened_browser(app) as other:
        assert (await other.sign_in(provider["id"])).status_code == 303
        assert (await other.me()).json()["email"] == f"bea@{DOMAIN}"


@pytest.mark.parametrize(
    "next_path", ["//evil.example/x", "/\\evil.example", "https://evil.example"]
)
async def test_only_a_path_on_this_site_is_followed_after_sign_in(
    world: World, idp: IdentityProvider, visitor: Browser, next_path: str
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = person()
    start = await visitor.app.get(f"/oidc/{provider['id']}/start", params={"next": next_path})
    answer = await visitor.come_back(await visitor.approve(start.headers["location"]))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/learn"


async def test_a_suspended_student_cannot_sign_in_through_the_provider(
    world: World, db: Database, idp: IdentityProvider, app: Any
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = person()
    async with opened_browser(app) as first:
        assert (await first.sign_in(provider["id"])).status_code == 303
        student_id = (await first.me()).json()["id"]
    suspended = await world.client.post(
        f"/api/v1/admin/users/{student_id}/suspend", headers=admin.headers
    )
    assert suspended.status_code == 200, suspended.text
    before = await counts(db)
    async with opened_browser(app) as again:
        answer = await again.sign_in(provider["id"])
        assert answer.status_code == 403
        assert answer.json()["type"].endswith("/suspended")
        assert (await again.me()).status_code == 401
    assert await counts(db) == before


async def test_a_next_path_longer_than_kept_is_dropped(
    world: World, idp: IdentityProvider, visitor: Browser
) -> None:
    admin = await world.admin()
    provider = await add_provider(world, admin, idp)
    idp.person = person()
    answer = await visitor.sign_in(provider["id"], next_path="/learn/" + "a" * 1500)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/learn"
