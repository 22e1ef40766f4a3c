"""Resource link launches: a good one enrolls (source lti) and signs in; a bad one is refused
with a 4xx and changes nothing but the launch log."""

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from lectern.lti import claims as c
from lectern.lti.keys import REFETCH_AFTER_S
from lectern.models import LtiLogin
from lectern.models.base import utcnow
from lectern.platform.db import Database
from tests.factories import World
from tests.lti.conftest import Registered, launch, login, register, resource_claims
from tests.lti.platform import PlatformServer, rsa_key
from tests.rows import row_counts, rows, scalar


async def _launch_ok(
    client: httpx.AsyncClient, platform: PlatformServer, course_id: int, **claims: Any
) -> httpx.Response:
    started = await login(client, platform, course_id)
    token = platform.id_token(started.nonce, **{**resource_claims(course_id), **claims})
    return await launch(client, started, token)


async def test_a_good_launch_enrolls_the_learner_with_source_lti_and_signs_them_in(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    assert "secure" in started.set_cookie.lower()
    assert "samesite=none" in started.set_cookie.lower()
    assert "httponly" in started.set_cookie.lower()

    r = await launch(
        client, started, platform.id_token(started.nonce, **resource_claims(course_id))
    )

    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/learn/courses/{course_id}"
    session_cookie, csrf = r.cookies["lectern_session"], r.cookies["lectern_csrf"]
    me = await client.get("/api/v1/me", headers={"Cookie": f"lectern_session={session_cookie}"})
    assert me.status_code == 200
    assert me.json()["email"] == "ada@platform.test"
    assert me.json()["full_name"] == "Ada Lovelace"
    assert me.json()["role"] == "student"
    [enrollment] = await rows(
        db,
        "SELECT e.source, e.status FROM enrollments e JOIN users u ON u.id = e.user_id"
        " WHERE u.email = 'ada@platform.test' AND e.course_id = :c",
        c=course_id,
    )
    assert enrollment == {"source": "lti", "status": "active"}
    profiles = await scalar(
        db,
        "SELECT count(*) FROM student_profiles p JOIN users u ON u.id = p.user_id"
        " WHERE u.email = 'ada@platform.test'",
    )
    assert profiles == 1
    types = [
        r["type"]
        for r in await rows(
            db,
            "SELECT e.type FROM events e JOIN users u ON u.id = e.user_id"
            " WHERE u.email = 'ada@platform.test' ORDER BY e.id",
        )
    ]
    assert types[0] == "user.registered"
    assert "enrollment.created" in types
    [logged] = await rows(db, "SELECT outcome, course_id FROM lti_launches")
    assert logged == {"outcome": "accepted", "course_id": course_id}
    # The learner's session is a real one: it takes a cookie-authenticated change with its CSRF.
    activity = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": registered.reading_id}]},
        headers={"Cookie": f"lectern_session={session_cookie}", "X-CSRF-Token": csrf},
    )
    assert activity.status_code == 200, activity.text


async def test_the_learner_is_found_by_platform_and_subject_never_by_email(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    assert (await _launch_ok(client, platform, course_id)).status_code == 303
    again = await _launch_ok(client, platform, course_id, email="renamed@platform.test")
    assert again.status_code == 303
    other = await _launch_ok(client, platform, course_id, sub="platform-user-2")
    assert other.status_code == 303

    people = await rows(
        db,
        "SELECT a.subject, u.email FROM lti_accounts a JOIN users u ON u.id = a.user_id"
        " ORDER BY a.subject",
    )
    # The same subject is the same learner whatever e-mail it brings; another subject with an
    # e-mail already taken gets an account of its own, not the first one's.
    assert [p["subject"] for p in people] == ["platform-user-1", "platform-user-2"]
    assert people[0]["email"] == "ada@platform.test"
    assert people[1]["email"].endswith("@lti.invalid")
    enrollments = await scalar(
        db, "SELECT count(*) FROM enrollments WHERE course_id = :c AND source = 'lti'", c=course_id
    )
    assert enrollments == 2


async def test_an_existing_lectern_account_with_the_same_email_is_not_taken_over(
    client: httpx.AsyncClient,
    world: World,
    db: Database,
    platform: PlatformServer,
    registered: Registered,
) -> None:
    existing = await world.student(registered.admin.institution_slug)
    course_id = registered.course["id"]

    r = await _launch_ok(client, platform, course_id, email=existing.email)

    assert r.status_code == 303
    linked = await scalar(db, "SELECT user_id FROM lti_accounts")
    assert linked != existing.id
    mine = await scalar(
        db,
        "SELECT count(*) FROM enrollments WHERE user_id = :u AND course_id = :c",
        u=existing.id,
        c=course_id,
    )
    assert mine == 0


def _forged(platform: PlatformServer, nonce: str, course_id: int) -> str:
    impostor = rsa_key(platform.key.kid or "")
    return platform.id_token(nonce, key=impostor, **resource_claims(course_id))


def _expired(platform: PlatformServer, nonce: str, course_id: int) -> str:
    long_ago = int(time.time()) - 3600
    return platform.id_token(nonce, iat=long_ago, exp=long_ago + 300, **resource_claims(course_id))


def _wrong_audience(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return platform.id_token(nonce, aud="another-tool", **resource_claims(course_id))


def _unknown_deployment(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return platform.id_token(
        nonce, **{c.DEPLOYMENT_ID: "deployment-9", **resource_claims(course_id)}
    )


def _wrong_nonce(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return platform.id_token("not-the-login-nonce", **resource_claims(course_id))


def _wrong_issuer(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return platform.id_token(nonce, iss="https://elsewhere.test", **resource_claims(course_id))


def _old_version(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return platform.id_token(nonce, **{c.VERSION: "1.1", **resource_claims(course_id)})


def _teacher(platform: PlatformServer, nonce: str, course_id: int) -> str:
    teacher = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
    return platform.id_token(nonce, **{c.ROLES: teacher, **resource_claims(course_id)})


def _nul_in_a_name(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return platform.id_token(nonce, name="Ada\x00", **resource_claims(course_id))


def _not_a_jwt(platform: PlatformServer, nonce: str, course_id: int) -> str:
    return "not.a.jwt"


@pytest.mark.parametrize(
    "make_token",
    [
        _forged,
        _expired,
        _wrong_audience,
        _unknown_deployment,
        _wrong_nonce,
        _wrong_issuer,
        _old_version,
        _teacher,
        _nul_in_a_name,
        _not_a_jwt,
    ],
)
async def test_a_bad_launch_is_refused_and_changes_nothing(
    make_token: Any,
    client: httpx.AsyncClient,
    db: Database,
    platform: PlatformServer,
    registered: Registered,
) -> None:
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    before = await row_counts(db)

    r = await launch(client, started, make_token(platform, started.nonce, course_id))

    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "lectern_session" not in r.cookies
    after = await row_counts(db)
    assert {t: n for t, n in after.items() if t != "lti_launches"} == {
        t: n for t, n in before.items() if t != "lti_launches"
    }
    [logged] = await rows(db, "SELECT outcome, reason FROM lti_launches")
    assert logged["outcome"] == "refused"
    assert logged["reason"]
    # The login was not used up by the refusal, and the right token still works.
    good = await launch(
        client, started, platform.id_token(started.nonce, **resource_claims(course_id))
    )
    assert good.status_code == 303


async def test_a_replayed_launch_is_refused(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    token = platform.id_token(started.nonce, **resource_claims(course_id))
    assert (await launch(client, started, token)).status_code == 303
    before = await row_counts(db)

    replayed = await launch(client, started, token)
    # The same token under a fresh login carries the old nonce.
    fresh = await login(client, platform, course_id)
    under_new_login = await launch(client, fresh, token)

    assert replayed.status_code == 400
    assert replayed.json()["type"].endswith("/lti-replayed")
    assert under_new_login.status_code == 400
    assert under_new_login.json()["type"].endswith("/lti-nonce")
    after = await row_counts(db)
    assert after["auth_sessions"] == before["auth_sessions"]
    assert after["users"] == before["users"]


async def test_a_launch_from_another_browser_than_the_login_is_refused(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    started = await login(client, platform, course_id)
    token = platform.id_token(started.nonce, **resource_claims(course_id))

    without_cookie = await client.post(
        "/lti/launch", data={"id_token": token, "state": started.state}
    )
    other_cookie = await launch(client, started, token, Cookie="lectern_lti_state=someone-else")

    assert without_cookie.status_code == 400
    assert other_cookie.status_code == 400
    assert await scalar(db, "SELECT count(*) FROM enrollments") == 0


async def test_a_key_the_platform_rotated_in_is_fetched_on_its_unknown_kid(
    client: httpx.AsyncClient, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    assert (await _launch_ok(client, platform, course_id)).status_code == 303
    fetched = platform.jwks_fetches
    platform.key = rsa_key(f"platform-key-{time.monotonic_ns()}")
    platform.published.append(platform.key)
    await asyncio.sleep(REFETCH_AFTER_S)

    r = await _launch_ok(client, platform, course_id, sub="platform-user-3")

    assert r.status_code == 303, r.text
    assert platform.jwks_fetches == fetched + 1


async def test_another_institutions_platform_cannot_launch_into_this_ones_course(
    client: httpx.AsyncClient, world: World, db: Database, registered: Registered
) -> None:
    with PlatformServer() as elsewhere:
        await register(world, elsewhere, institution="Southwind College")
        before = await row_counts(db)
        theirs = registered.course["id"]

        r = await _launch_ok(client, elsewhere, theirs)

        assert r.status_code == 404, r.text
        after = await row_counts(db)
        # The other platform's login and its refused launch are logged; nothing else is written.
        logged = {"lti_logins", "lti_launches"}
        assert {t: n for t, n in after.items() if t not in logged} == {
            t: n for t, n in before.items() if t not in logged
        }
        assert await scalar(db, "SELECT count(*) FROM lti_logins WHERE used_at IS NULL") == 1


async def test_a_login_for_an_unregistered_platform_is_refused(
    client: httpx.AsyncClient, platform: PlatformServer
) -> None:
    r = await client.get(
        "/lti/login",
        params={"iss": platform.issuer, "login_hint": "x", "target_link_uri": "http://t/x"},
    )

    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_two_first_launches_at_once_make_one_learner(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    logins = [await login(client, platform, course_id) for _ in range(2)]
    tokens = [platform.id_token(x.nonce, **resource_claims(course_id)) for x in logins]

    answers = await asyncio.gather(
        *(launch(client, x, token) for x, token in zip(logins, tokens, strict=True))
    )

    assert [a.status_code for a in answers] == [303, 303]
    assert await scalar(db, "SELECT count(*) FROM lti_accounts") == 1
    assert await scalar(db, "SELECT count(*) FROM enrollments WHERE source = 'lti'") == 1
    me = [
        (
            await client.get(
                "/api/v1/me", headers={"Cookie": f"lectern_session={a.cookies['lectern_session']}"}
            )
        ).json()["id"]
        for a in answers
    ]
    assert me[0] == me[1]


async def test_an_expired_login_serves_no_launch_and_old_ones_are_cleared(
    client: httpx.AsyncClient, db: Database, platform: PlatformServer, registered: Registered
) -> None:
    course_id = registered.course["id"]
    stale = await login(client, platform, course_id)
    async with db.session() as session:
        await session.execute(update(LtiLogin).values(created_at=utcnow() - timedelta(days=2)))
        await session.commit()

    r = await launch(client, stale, platform.id_token(stale.nonce, **resource_claims(course_id)))
    await login(client, platform, course_id)

    assert r.status_code == 400
    assert r.json()["type"].endswith("/lti-state")
    assert await scalar(db, "SELECT count(*) FROM lti_logins") == 1
