"""Staff set a course's seats and waitlist in the editor; a learner sees the seats left, joins
the waitlist with their place in line, and is enrolled in place when a seat frees."""

import re

import pytest
from playwright.async_api import expect

from tests.web.conftest import ADMIN_EMAIL, STUDENT_EMAIL, Visitors, assert_every_control_labelled

pytestmark = pytest.mark.browser
LIVE = 2000


async def test_a_learner_waits_for_a_seat_set_in_the_editor_and_gets_it_when_one_frees(
    visitors: Visitors,
) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/courses")
    await admin.get_by_label("Title").fill("Suturing Lab")
    await admin.get_by_label("Access").select_option("open")
    await admin.get_by_role("button", name="Create draft").click()
    await admin.wait_for_url(re.compile(r"/admin/courses/\d+$"))
    await admin.get_by_label("Seats").fill("0")
    await admin.get_by_label("Keep a waitlist when full").check()
    await admin.get_by_label("Access (days)").fill("30")
    await admin.get_by_label("Status").select_option("published")
    await admin.get_by_role("button", name="Save settings").click()
    await expect(admin.locator("#settings-result")).to_have_text("Saved.")
    await assert_every_control_labelled(admin)

    student = await visitors.logged_in(STUDENT_EMAIL)
    await student.goto("/learn/catalog")
    card = student.locator("#catalog article", has_text="Suturing Lab")
    await expect(card.locator("[data-test=course-terms]")).to_have_text(
        "Full (0 seats), waitlist open · Access for 30 days"
    )
    await card.get_by_role("button", name="Join waitlist").click()
    await expect(card.locator("[data-test=waitlist-position]")).to_have_text(
        "Number 1 in line", timeout=LIVE
    )

    await admin.get_by_label("Seats").fill("1")
    await admin.get_by_role("button", name="Save settings").click()
    await expect(admin.locator("#settings-result")).to_have_text("Saved.")
    await expect(card.get_by_role("link", name="Open course")).to_be_visible(timeout=LIVE)
    await student.goto("/learn")
    enrolled = student.locator("#courses article", has_text="Suturing Lab")
    await expect(enrolled.locator("[data-test=access-end]")).to_contain_text("Access until")
