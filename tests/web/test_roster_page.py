"""An admin previews a roster file in the browser, row by row, then applies it."""

import pytest
from playwright.async_api import expect

from tests.web.conftest import ADMIN_EMAIL, STUDENT_EMAIL, Visitors, assert_every_control_labelled

pytestmark = pytest.mark.browser

ROSTER = (
    "\ufeffemail;course;action;full_name\r\n"
    f"{STUDENT_EMAIL};clinical-reasoning;enroll;\r\n"
    "new.learner@northwind.test;clinical-reasoning;enroll;New Learner\r\n"
    "nobody@northwind.test;no-such-course;enroll;\r\n"
).encode()


async def test_the_roster_page_previews_each_row_and_applies_a_clean_file(
    visitors: Visitors,
) -> None:
    page = await visitors.logged_in(ADMIN_EMAIL)
    await page.goto("/admin/roster")
    await assert_every_control_labelled(page)
    apply = page.get_by_role("button", name="Apply")

    await page.get_by_label("Roster file").set_input_files(
        files=[{"name": "term.csv", "mimeType": "text/csv", "buffer": ROSTER}]
    )
    await page.get_by_role("button", name="Preview").click()

    rows = page.locator("#roster-result tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_have_attribute("data-outcome", "enroll")
    await expect(rows.nth(1)).to_have_attribute("data-outcome", "invite")
    await expect(rows.nth(2)).to_have_attribute("data-outcome", "error")
    await expect(rows.nth(2)).to_contain_text("not one of this institution's courses")
    await expect(page.locator("#roster-result [role=alert]")).to_contain_text(
        "nothing would be applied"
    )
    await expect(apply).to_be_disabled()

    clean = ROSTER.rsplit(b"\r\n", 2)[0] + b"\r\n"
    await page.get_by_label("Roster file").set_input_files(
        files=[{"name": "term.csv", "mimeType": "text/csv", "buffer": clean}]
    )
    await page.get_by_role("button", name="Preview").click()
    await expect(rows).to_have_count(2)
    await expect(apply).to_be_enabled()
    await apply.click()

    await expect(page.locator("#roster-result [role=status]")).to_contain_text("Applied")
    await page.get_by_role("button", name="Preview").click()
    await expect(rows.nth(0)).to_have_attribute("data-outcome", "already-enrolled")
    await expect(rows.nth(1)).to_have_attribute("data-outcome", "already-enrolled")


async def test_the_reports_page_downloads_a_csv_with_only_the_filled_in_filters(
    visitors: Visitors,
) -> None:
    page = await visitors.logged_in(ADMIN_EMAIL)
    await page.goto("/admin/reports")
    await assert_every_control_labelled(page)
    form = page.locator("form[data-report=enrollments]")

    async with page.expect_download() as download_info:
        await form.get_by_role("button", name="Download CSV").click()
    download = await download_info.value

    assert download.suggested_filename.startswith("enrollments-")
    assert download.suggested_filename.endswith(".csv")
    path = await download.path()
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith("enrollment_id,learner,email")
    assert STUDENT_EMAIL in text
