"""Buying a paid course through the test provider's checkout page: the learner comes back
enrolled, and their other open pages and the admin's figures follow live."""

import re

import pytest
from playwright.async_api import expect

from tests.web.conftest import (
    ADMIN_EMAIL,
    STUDENT_EMAIL,
    Visitors,
    mark_document,
    screenshot,
    still_same_document,
)

pytestmark = pytest.mark.browser
LIVE = 2000


async def test_buying_a_course_enrolls_the_learner_live(visitors: Visitors) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    active = admin.locator("#fig-active")
    await expect(active).not_to_have_text("–")
    active_before = int(await active.inner_text())

    learner = await visitors.logged_in(STUDENT_EMAIL)
    other_tab = await visitors.tab(learner.context)
    await other_tab.goto("/learn/catalog")
    paid_card = other_tab.locator("article", has_text="Board Review Intensive")
    await expect(paid_card.get_by_role("button", name=re.compile(r"^Buy for"))).to_be_visible()

    await mark_document(admin)
    await mark_document(other_tab)
    await learner.goto("/learn/catalog")
    card = learner.locator("article", has_text="Board Review Intensive")
    await card.get_by_role("button", name=re.compile(r"^Buy for")).click()
    await learner.wait_for_url(re.compile(r"/pay/test/"))
    await screenshot(learner, "test-checkout")
    await learner.get_by_role("button", name=re.compile(r"^Pay")).click()

    await learner.wait_for_url(re.compile(r"/learn/courses/\d+\?payment=\d+"))
    await expect(learner.locator("#course-state [data-status=active]")).to_be_visible(timeout=LIVE)
    await expect(learner.locator("#paid-notice")).to_be_visible()
    await expect(learner.locator("#outline a[data-lesson-id]")).to_have_count(1)
    await expect(paid_card.locator("[data-status=enrolled]")).to_be_visible(timeout=LIVE)
    await expect(active).to_have_text(str(active_before + 1), timeout=LIVE)
    assert await still_same_document(admin)
    assert await still_same_document(other_tab)
    await screenshot(learner, "student-course-paid")

    await admin.goto("/admin/students")
    await admin.get_by_role("link", name="Sam Student").click()
    await expect(admin.locator("#payment-rows tr[data-status=completed]")).to_contain_text(
        "Board Review Intensive"
    )
    paid_row = admin.locator("#enrollment-rows tr", has_text="Board Review Intensive")
    await expect(paid_row).to_contain_text("ended by a refund")
    # A paid enrollment ends by a refund, never by unenrolling; its end may still be moved.
    await expect(paid_row.get_by_role("button", name=re.compile("^Unenroll"))).to_have_count(0)
    await expect(paid_row.get_by_role("button", name="Set end")).to_have_count(1)
    await screenshot(admin, "admin-student-payments")
