"""Two people in two browsers: a request, its approval, and every page following live."""

import pytest
from playwright.async_api import expect

from tests.conftest import BACKENDS
from tests.web.conftest import (
    ADMIN_EMAIL,
    INSTITUTION_SLUG,
    Visitors,
    mark_document,
    screenshot,
    still_same_document,
)

# The live path differs by backend (LISTEN/NOTIFY on PostgreSQL), so these run on both.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("site", BACKENDS, indirect=True)]
LIVE = 2000  # ms: how soon another person's change must show, without reload


async def test_request_shows_in_admin_queue_and_approval_enrolls_the_student_live(
    visitors: Visitors,
) -> None:
    admin_queue = await visitors.logged_in(ADMIN_EMAIL)
    await admin_queue.goto("/admin/requests")
    admin_dashboard = await visitors.tab(admin_queue.context)
    await admin_dashboard.goto("/admin")
    active = admin_dashboard.locator("#fig-active")
    pending = admin_dashboard.locator("#fig-pending")
    await expect(active).not_to_have_text("–")
    pending_before = int(await pending.inner_text())
    students = admin_dashboard.locator("#fig-students")
    students_before = int(await students.inner_text())

    student = await visitors.person()
    await student.goto(f"/signup?institution={INSTITUTION_SLUG}")
    await student.get_by_label("Full name").fill("Rosa Request")
    await student.get_by_label("E-mail").fill("rosa@northwind.test")
    await student.get_by_label("Password").fill("rosa-password-1")
    await student.get_by_role("button", name="Create account").click()
    await student.wait_for_url("**/learn")

    await student.goto("/learn/catalog")
    card = student.locator("article", has_text="Clinical Reasoning")
    await card.get_by_role("button", name="Request access").click()
    await expect(card.locator("[data-status=pending]")).to_be_visible()

    request_row = admin_queue.locator("tr", has_text="Rosa Request")
    await expect(request_row).to_be_visible(timeout=LIVE)
    await expect(pending).to_have_text(str(pending_before + 1), timeout=LIVE)
    await expect(admin_queue.locator("#count-requests")).to_have_text(
        f"(pending: {pending_before + 1})", timeout=LIVE
    )
    await expect(students).to_have_text(str(students_before + 1), timeout=LIVE)
    # Read after the request arrived: registering also enrolled Rosa in the default course.
    active_before = int(await active.inner_text())

    dashboard = await visitors.tab(student.context)
    await dashboard.goto("/learn")
    await expect(dashboard.locator("#requests")).to_contain_text("Clinical Reasoning")

    for page in (admin_queue, admin_dashboard, student, dashboard):
        await mark_document(page)
    await request_row.get_by_label("Note to Rosa Request").fill("Welcome!")
    await request_row.get_by_role("button", name="Approve").click()
    await expect(request_row).to_have_count(0, timeout=LIVE)

    await expect(card.get_by_role("link", name="Open course")).to_be_visible(timeout=LIVE)
    await expect(card.locator("[data-status=enrolled]")).to_be_visible(timeout=LIVE)
    await expect(
        dashboard.locator("#courses article", has_text="Clinical Reasoning")
    ).to_be_visible(timeout=LIVE)
    await expect(dashboard.locator("#requests")).not_to_contain_text(
        "Clinical Reasoning", timeout=LIVE
    )
    await expect(active).to_have_text(str(active_before + 1), timeout=LIVE)
    await expect(pending).to_have_text(str(pending_before), timeout=LIVE)
    for page in (admin_queue, admin_dashboard, student, dashboard):
        assert await still_same_document(page), f"{page.url} was reloaded"
    await screenshot(student, "student-catalog")
    await screenshot(dashboard, "student-dashboard")
    await screenshot(admin_dashboard, "admin-dashboard")


async def test_rejection_shows_the_note_in_the_catalog_live(visitors: Visitors) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/requests")
    student = await visitors.logged_in("student@northwind.test")
    await student.goto("/learn/catalog")
    card = student.locator("article", has_text="Clinical Reasoning")
    await expect(card.locator("[data-status=pending]")).to_be_visible()

    row = admin.locator("tr", has_text="Sam Student")
    await row.get_by_label("Note to Sam Student").fill("Finish Study Skills first.")
    # Rejecting asks first; Escape keeps the request as it was.
    await row.get_by_role("button", name="Reject").click()
    dialog = admin.get_by_role("dialog")
    await expect(dialog).to_contain_text("Reject Sam Student's request for Clinical Reasoning?")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await admin.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(row.get_by_role("button", name="Approve")).to_be_enabled()
    await expect(card.locator("[data-status=pending]")).to_be_visible()

    await row.get_by_role("button", name="Reject").click()
    await dialog.get_by_role("button", name="Reject request").click()

    await expect(card.locator("[data-test=rejected-note]")).to_contain_text(
        "Finish Study Skills first.", timeout=LIVE
    )
    await expect(card.get_by_role("button", name="Request again")).to_be_visible()
    await screenshot(admin, "admin-requests")


async def test_admin_enroll_and_unenroll_reach_the_students_pages_live(
    visitors: Visitors,
) -> None:
    learner = await visitors.logged_in("leo@northwind.test")
    await expect(learner.locator("#courses article").first).to_be_visible()
    notifications = await visitors.tab(learner.context)
    await notifications.goto("/learn/notifications")
    await expect(notifications.locator("#notification-list")).to_have_attribute(
        "aria-busy", "false"
    )

    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/students")
    await admin.get_by_role("link", name="Leo Okafor").click()
    await admin.get_by_label("Course", exact=True).select_option(
        label="Clinical Reasoning (published)"
    )
    await admin.get_by_role("button", name="Enroll", exact=True).click()

    course = learner.locator("#courses article", has_text="Clinical Reasoning")
    await expect(course).to_be_visible(timeout=LIVE)
    await expect(notifications.locator("#notification-list")).to_contain_text(
        "Clinical Reasoning", timeout=LIVE
    )
    await screenshot(notifications, "student-notifications-live")

    row = admin.locator("#enrollment-rows tr", has_text="Clinical Reasoning")
    await row.get_by_role("button", name="Unenroll from Clinical Reasoning").click()
    await admin.get_by_role("dialog").get_by_role("button", name="Unenroll").click()
    await expect(course).to_have_count(0, timeout=LIVE)
    await expect(row).to_have_attribute("data-status", "cancelled", timeout=LIVE)


async def test_a_cancelled_request_leaves_the_admin_queue_live(visitors: Visitors) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/requests")
    row = admin.locator("tr", has_text="Sam Student")
    await expect(row).to_be_visible()

    student = await visitors.logged_in("student@northwind.test")
    await student.goto("/learn/catalog")
    card = student.locator("article", has_text="Clinical Reasoning")
    await card.get_by_role("button", name="Cancel request").click()
    await expect(card.get_by_role("button", name="Request access")).to_be_visible()
    await expect(row).to_have_count(0, timeout=LIVE)


async def test_marking_a_notification_read_clears_its_new_badge(visitors: Visitors) -> None:
    maya = await visitors.logged_in("maya@northwind.test")
    await maya.goto("/learn/notifications")
    first = maya.locator("#notification-list li[data-notification-id]").first
    await expect(first.locator(".badge", has_text="new")).to_be_visible()
    unread = maya.locator("#count-notifications .n")
    await expect(unread).not_to_have_text("")
    unread_before = int(await unread.inner_text())
    await first.get_by_role("button", name="Mark as read").click()
    if unread_before == 1:
        await expect(maya.locator("#count-notifications")).to_be_hidden()
    else:
        await expect(unread).to_have_text(str(unread_before - 1))
    await expect(first.get_by_role("button", name="Mark as read")).to_have_count(0)
    await expect(first.locator(".badge", has_text="new")).to_have_count(0)
