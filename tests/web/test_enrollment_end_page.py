"""An admin moves a learner's end of access on the student's page, and the learner sees it."""

import pytest
from playwright.async_api import expect

from tests.web.conftest import ADMIN_EMAIL, STUDENT_EMAIL, Visitors, assert_every_control_labelled

pytestmark = pytest.mark.browser
LIVE = 2000


async def test_an_admin_sets_the_last_day_of_access_and_the_learner_sees_it(
    visitors: Visitors,
) -> None:
    student = await visitors.logged_in(STUDENT_EMAIL)
    me = await (await student.request.get("/api/v1/me")).json()
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto(f"/admin/students/{me['id']}")
    row = admin.locator("#enrollment-rows tr[data-status=active]").first
    await expect(row).to_be_visible(timeout=LIVE)
    course = await row.locator("th").inner_text()
    await assert_every_control_labelled(admin)

    await row.locator("input[data-field=ends-at]").fill("2099-12-31")
    await row.get_by_role("button", name="Set end").click()

    await expect(admin.locator("#announcer")).to_contain_text(
        f"Access to {course} ends at the close of 2099-12-31", timeout=LIVE
    )
    await admin.reload()
    again = admin.locator("#enrollment-rows tr[data-status=active]", has_text=course).first
    await expect(again.locator("input[data-field=ends-at]")).to_have_value("2099-12-31")
    await student.goto("/learn")
    card = student.locator("#courses article", has_text=course).first
    await expect(card.locator("[data-test=access-end]")).to_contain_text("2099", timeout=LIVE)
