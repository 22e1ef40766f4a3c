"""Every page of both apps: it renders from the API, every form control has a label, the page
has its landmarks and a keyboard path, no console error, and a screenshot is kept."""

import re

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import (
    ADMIN_EMAIL,
    STUDENT_EMAIL,
    Visitors,
    assert_every_control_labelled,
    screenshot,
)

pytestmark = pytest.mark.browser


async def check_page(page: Page, name: str) -> None:
    await screenshot(page, name)
    await assert_every_control_labelled(page)
    await expect(page.locator("main")).to_have_count(1)
    await expect(page.locator("header")).to_have_count(1)
    await expect(page.locator("[aria-live]").first).to_be_attached()
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content", f"{name}: the first Tab lands on {focused!r}"


async def test_public_pages_are_labelled_and_render(visitors: Visitors) -> None:
    page = await visitors.person()
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await check_page(page, "login")
    await page.goto("/signup")
    await check_page(page, "signup")


async def test_every_student_page_renders_labelled_without_errors(visitors: Visitors) -> None:
    page = await visitors.logged_in(STUDENT_EMAIL)
    await expect(page).to_have_url(re.compile(r"/learn$"))
    await expect(page.locator("#courses article").first).to_be_visible()
    await expect(page.locator("#notifications li").first).to_be_visible()
    await check_page(page, "student-dashboard-tour")

    await page.goto("/learn/catalog")
    await expect(page.locator("#catalog article").first).to_be_visible()
    await check_page(page, "student-catalog-tour")

    await (
        page.locator("#catalog article", has_text="Study Skills")
        .get_by_role("link", name="Open course")
        .click()
    )
    await expect(page.locator("#outline a[data-lesson-id]").first).to_be_visible()
    await expect(page.locator("#course-progress [role=progressbar]")).to_be_visible()
    await check_page(page, "student-course")

    await page.goto("/learn/catalog")
    paid = page.locator("#catalog article", has_text="Board Review Intensive")
    paid_id = await paid.get_attribute("data-course-id")
    await page.goto(f"/learn/courses/{paid_id}")
    await expect(page.locator("#course-progress")).to_contain_text("not enrolled")
    await check_page(page, "student-course-not-enrolled")

    for path, ready, name in (
        ("/learn/progress", "#progress-rows tr[data-course-id]", "student-progress"),
        ("/learn/certificates", "#certificates[aria-busy=false]", "student-certificates"),
        ("/learn/notifications", "#notification-list li", "student-notifications"),
    ):
        await page.goto(path)
        await expect(page.locator(ready).first).to_be_attached()
        await check_page(page, name)

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto("/learn/catalog")
    await expect(page.locator("#catalog article").first).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the catalog scrolls sideways on a phone ({width}px)"
    await screenshot(page, "mobile-student-catalog")

    await page.goto("/admin")
    await expect(page).to_have_url(re.compile(r"/learn$"))


async def test_every_admin_page_renders_labelled_without_errors(visitors: Visitors) -> None:
    page = await visitors.logged_in(ADMIN_EMAIL)
    await expect(page).to_have_url(re.compile(r"/admin$"))
    await expect(page.locator("#fig-students")).not_to_have_text("–")
    await expect(page.locator("#chart-enrollments .main-svg").first).to_be_visible()
    await check_page(page, "admin-dashboard-tour")

    await page.goto("/admin/requests")
    await expect(page.locator("#request-rows tr[data-request-id]").first).to_be_visible()
    await check_page(page, "admin-requests-tour")

    await page.goto("/admin/students")
    await expect(page.locator("#student-rows tr[data-user-id]").first).to_be_visible()
    await check_page(page, "admin-students")
    await page.get_by_role("link", name="Sam Student").click()
    await expect(page.locator("#enrollment-rows tr[data-course-id]").first).to_be_visible()
    await check_page(page, "admin-student")

    await page.goto("/admin/courses")
    await expect(page.locator("#course-rows tr[data-course-id]").first).to_be_visible()
    await check_page(page, "admin-courses")
    row = page.locator("#course-rows tr", has_text="Study Skills")
    await row.get_by_role("link", name="Edit").click()
    await expect(page.locator("#editor-outline article").first).to_be_visible()
    await check_page(page, "admin-course-editor")

    await page.get_by_role("link", name="Analytics").click()
    await expect(page.locator("#chart-distribution .main-svg").first).to_be_visible()
    await check_page(page, "admin-course-analytics-empty")

    await page.goto("/admin/courses")
    row = page.locator("#course-rows tr", has_text="First Aid Basics")
    await row.get_by_role("link", name="Analytics").click()
    await expect(page.locator("#qbank-rows tr[data-question-id]").first).to_be_visible()
    await expect(page.locator("#ca-completed")).to_have_text("1")
    await check_page(page, "admin-course-analytics")

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto("/admin")
    await expect(page.locator("#chart-progress .main-svg").first).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the admin dashboard scrolls sideways on a phone ({width}px)"
    await screenshot(page, "mobile-admin-dashboard")

    await page.goto("/learn")
    await expect(page).to_have_url(re.compile(r"/admin$"))


FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return { text: (el.textContent || "").trim(), outline: style.outlineStyle };
}"""


async def test_a_student_logs_in_and_requests_access_with_the_keyboard_alone(
    visitors: Visitors,
) -> None:
    page = await visitors.person()
    await page.goto("/login")
    await page.keyboard.press("Tab")  # skip link
    await page.keyboard.press("Tab")  # brand link
    await page.keyboard.press("Tab")
    await page.keyboard.type("leo@northwind.test")
    await page.keyboard.press("Tab")
    await page.keyboard.type("lectern-demo")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/learn$"))

    await page.goto("/learn/catalog")
    card = page.locator("article", has_text="Clinical Reasoning")
    await expect(card.get_by_role("button", name="Request access")).to_be_visible()
    for _ in range(60):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUS)
        if focused["text"] == "Request access":
            break
    else:
        pytest.fail("Tab never reached the Request access button")
    assert focused["outline"] != "none", "the focused button shows no focus ring"
    await page.keyboard.press("Enter")
    await expect(card.locator("[data-status=pending]")).to_be_visible()
