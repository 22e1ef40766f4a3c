"""Deep Linking: a platform's teacher picks a course; the answer is a JWT signed with Lectern's
key, which verifies against Lectern's published key set."""

import re
from html import unescape

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from lectern.lti import claims as c
from tests.factories import World
from tests.lti.conftest import Registered, launch, login
from tests.lti.platform import CLIENT_ID, DEPLOYMENT, PlatformServer


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, html
    return unescape(match.group(1))


async def _pick_page(client: httpx.AsyncClient, platform: PlatformServer) -> str:
    started = await login(client, platform)
    token = platform.id_token(started.nonce, message_type=c.DEEP_LINKING_REQUEST)
    r = await launch(client, started, token)
    assert r.status_code == 200, r.text
    return r.text


async def test_a_picked_course_is_answered_with_a_response_signed_by_lecterns_key(
    client: httpx.AsyncClient, platform: PlatformServer, registered: Registered
) -> None:
    started = await login(client, platform)
    token = platform.id_token(started.nonce, message_type=c.DEEP_LINKING_REQUEST)
    picking = await launch(client, started, token)
    page = picking.text
    assert f"frame-ancestors {platform.url}" in picking.headers["content-security-policy"]
    course = registered.course
    assert course["title"] in page
    pick_token = _field(page, "token")

    r = await client.post(
        "/lti/deep-link", data={"token": pick_token, "course_id": str(course["id"])}
    )

    assert r.status_code == 200, r.text
    assert f'action="{platform.url}/deep-link-return"' in r.text
    assert f"form-action 'self' {platform.url}" in r.headers["content-security-policy"]
    answer = _field(r.text, "JWT")
    published = (await client.get("/lti/jwks")).json()
    decoded = jwt.decode(answer, KeySet.import_key_set(published), algorithms=["RS256"])
    claims = decoded.claims
    assert claims["iss"] == CLIENT_ID
    assert claims["aud"] == platform.issuer
    assert claims[c.MESSAGE_TYPE] == c.DEEP_LINKING_RESPONSE
    assert claims[c.VERSION] == "1.3.0"
    assert claims[c.DEPLOYMENT_ID] == DEPLOYMENT
    assert claims[c.DEEP_LINKING_DATA] == "opaque-platform-data"
    [item] = claims[c.CONTENT_ITEMS]
    assert item["type"] == "ltiResourceLink"
    assert item["custom"] == {c.COURSE_PARAMETER: str(course["id"])}
    assert item["url"] == f"http://testserver/lti/courses/{course['id']}"
    assert item["lineItem"]["scoreMaximum"] == 100
    assert claims["exp"] > claims["iat"]


async def test_a_pick_is_answered_once_and_only_with_the_institutions_courses(
    client: httpx.AsyncClient,
    platform: PlatformServer,
    registered: Registered,
    world: World,
) -> None:
    other_admin = await world.admin("Southwind College")
    theirs = await world.course(other_admin)
    pick_token = _field(await _pick_page(client, platform), "token")

    foreign = await client.post(
        "/lti/deep-link", data={"token": pick_token, "course_id": str(theirs["id"])}
    )
    ours = await client.post(
        "/lti/deep-link",
        data={"token": pick_token, "course_id": str(registered.course["id"])},
    )
    again = await client.post(
        "/lti/deep-link",
        data={"token": pick_token, "course_id": str(registered.course["id"])},
    )
    made_up = await client.post(
        "/lti/deep-link", data={"token": "made-up", "course_id": str(registered.course["id"])}
    )
    not_a_number = await client.post(
        "/lti/deep-link", data={"token": pick_token, "course_id": "1 OR 1"}
    )

    assert foreign.status_code == 404
    assert ours.status_code == 200
    assert again.status_code == 404
    assert made_up.status_code == 404
    assert not_a_number.status_code == 422


async def test_lecterns_key_set_publishes_a_rotated_key_beside_the_old_one(
    client: httpx.AsyncClient, world: World, registered: Registered
) -> None:
    before = {key["kid"] for key in (await client.get("/lti/jwks")).json()["keys"]}
    owner = await world.admin("Northwind Academy", platform_admin=True)

    refused = await client.post("/api/v1/lti/tool-keys/rotation", headers=registered.admin.headers)
    rotated = await client.post("/api/v1/lti/tool-keys/rotation", headers=owner.headers)

    assert refused.status_code == 403
    assert rotated.status_code == 200
    after = {key["kid"] for key in (await client.get("/lti/jwks")).json()["keys"]}
    assert after == before | {rotated.json()["kid"]}
    assert all("d" not in key for key in (await client.get("/lti/jwks")).json()["keys"])
