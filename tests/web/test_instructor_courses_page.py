"""An instructor's Courses page lists the courses they are staff of, each with its learners."""

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import ADMIN_EMAIL, Visitors

pytestmark = pytest.mark.browser

INSTRUCTOR_EMAIL = "instructor@northwind.test"
TAUGHT = "First Aid Basics"  # the demo instructor teaches it and Clinical Reasoning


async def learners_shown(page: Page, title: str) -> str:
    """The Learners cell of a course's row, once the page has filled it in."""
    row = page.locator("#course-rows tr", has_text=title)
    await expect(row).to_have_count(1)
    learners = row.locator("td").nth(3)
    await expect(learners).not_to_have_text("")
    return await learners.inner_text()


async def test_an_instructor_sees_their_courses_with_their_real_learners(
    visitors: Visitors,
) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/courses")
    counted_by_admin = await learners_shown(admin, TAUGHT)

    instructor = await visitors.logged_in(INSTRUCTOR_EMAIL)
    await instructor.goto("/admin/courses")
    await expect(instructor.locator("#course-rows tr")).to_have_count(2)
    await expect(instructor.locator("#course-rows")).not_to_contain_text("Study Skills")
    assert int(counted_by_admin) > 0
    assert await learners_shown(instructor, TAUGHT) == counted_by_admin
    analytics = instructor.locator("#course-rows tr", has_text=TAUGHT).get_by_role(
        "link", name="Analytics"
    )
    await analytics.click()
    await instructor.wait_for_url("**/analytics")
    await expect(instructor.locator("h1")).to_contain_text(TAUGHT)
