"""In Chromium: an admin adds the institution's identity provider on the Sign-in page and tests
the connection; a new student signs in with it from the log-in page and lands on their
dashboard, enrolled in the default course."""

import re

import pytest
from playwright.async_api import expect

from tests.oidc.identity_provider import CLIENT_ID, CLIENT_SECRET, IdentityProvider
from tests.web.conftest import (
    ADMIN_EMAIL,
    INSTITUTION_SLUG,
    Visitors,
    assert_every_control_labelled,
)

pytestmark = pytest.mark.browser


async def test_an_admin_adds_a_provider_and_a_student_signs_in_with_it(
    visitors: Visitors, idp: IdentityProvider
) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/sign-in")
    await assert_every_control_labelled(admin)
    add = admin.locator("#oidc-add")
    await add.get_by_label("Button label").fill("Northwind University account")
    await add.get_by_label("Issuer URL").fill(idp.issuer)
    await add.get_by_label("Client id").fill(CLIENT_ID)
    await add.get_by_label("Client secret").fill(CLIENT_SECRET)
    await add.get_by_label("E-mail domain allowed to sign in").fill("northwind.edu")
    await add.get_by_role("button", name="Add").click()
    provider = admin.locator("article.oidc-provider")
    await expect(provider).to_have_count(1)
    await expect(provider.locator("h2")).to_have_text("Northwind University account")
    await provider.get_by_role("button", name="Test connection").click()
    await expect(provider.locator(".oidc-test-result")).to_contain_text("Connected")

    idp.person = {
        "sub": "grace-1",
        "email": "grace@northwind.edu",
        "email_verified": True,
        "name": "Grace Hopper",
    }
    student = await visitors.person()
    await student.goto(f"/login?institution={INSTITUTION_SLUG}")
    await student.get_by_role("link", name="Sign in with Northwind University account").click()
    await student.wait_for_url(re.compile(r"/learn$"))
    await expect(student.locator(".who")).to_contain_text("Grace Hopper")
    await expect(student.locator("#courses article")).not_to_have_count(0)

    await admin.reload()
    await expect(provider.locator("tbody tr")).to_have_count(1)
    await expect(provider.locator("tbody tr")).to_contain_text("grace@northwind.edu")
