"""In a real browser: an admin registers a platform on the LTI page and tests its connection,
and a learner the platform sends through the login and launch lands signed in on the course."""

from urllib.parse import urlencode

import pytest
from playwright.async_api import expect

from tests.lti.conftest import resource_claims
from tests.lti.platform import CLIENT_ID, DEPLOYMENT, PlatformServer
from tests.web.conftest import ADMIN_EMAIL, Visitors, assert_every_control_labelled
from tests.web.conftest import browser as browser
from tests.web.conftest import site as site
from tests.web.conftest import visitors as visitors

pytestmark = pytest.mark.browser


async def test_a_platform_registered_on_the_page_launches_a_learner_into_a_course(
    visitors: Visitors, platform: PlatformServer
) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/lti")
    await assert_every_control_labelled(admin)
    form = admin.locator("form.lti-platform").last
    await form.get_by_label("Name").fill("Moodle of Northwind")
    await form.get_by_label("Issuer").fill(platform.issuer)
    await form.get_by_label("Client id").fill(CLIENT_ID)
    await form.get_by_label("Deployment ids").fill(DEPLOYMENT)
    await form.get_by_label("Key set URL").fill(f"{platform.url}/jwks")
    await form.get_by_label("Auth login URL").fill(f"{platform.url}/auth")
    await form.get_by_role("button", name="Register").click()
    await expect(admin.get_by_role("heading", name="Moodle of Northwind")).to_be_visible()
    await admin.get_by_role("button", name="Test connection").click()
    await expect(admin.locator("#lti-status")).to_have_text("Reachable: 1 RSA key(s) published.")
    courses = await (await admin.request.get("/api/v1/courses")).json()
    course = next(c for c in courses if c["status"] == "published")

    platform.launch_claims = resource_claims(course["id"])
    learner = await visitors.person()
    query = urlencode(
        {
            "iss": platform.issuer,
            "login_hint": "hint",
            "target_link_uri": f"{visitors.base_url}/lti/courses/{course['id']}",
            "client_id": CLIENT_ID,
        }
    )
    await learner.goto(f"/lti/login?{query}")

    await learner.wait_for_url(f"**/learn/courses/{course['id']}")
    await expect(learner.get_by_text(course["title"]).first).to_be_visible()
    me = await (await learner.request.get("/api/v1/me")).json()
    assert me["email"] == "ada@platform.test"
    await admin.reload()
    await expect(admin.get_by_text("accepted").first).to_be_visible()
