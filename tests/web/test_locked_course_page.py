"""The player of a course the learner may not take yet shows its outline and the way in, and
nothing of its lessons; enrolling opens the lessons in place."""

import re

import pytest
from playwright.async_api import Page, expect

from lectern.demo.course import QUIZ, READING
from tests.web.conftest import STUDENT_EMAIL, Visitors, mark_document, still_same_document
from tests.web.test_learning_pages import sign_up

pytestmark = pytest.mark.browser
LIVE = 2000
READING_LINE = "Check for a response"


async def course_id_of(page: Page, title: str) -> str:
    await page.goto("/learn/catalog")
    card = page.locator("#catalog article", has_text=title)
    return await card.get_attribute("data-course-id") or ""


async def assert_no_content(page: Page) -> None:
    html = await page.content()
    assert READING_LINE not in html
    assert QUIZ[0].prompt not in html
    assert "/media/" not in html
    await expect(page.locator("video, #quiz-form, #qbank-start, article.reading")).to_have_count(0)


async def test_an_open_course_shows_its_outline_and_opens_its_lessons_once_enrolled(
    visitors: Visitors,
) -> None:
    assert READING_LINE in READING
    learner = await visitors.person()
    await sign_up(learner, "Lena Locked", "lena@northwind.test")
    course_id = await course_id_of(learner, "First Aid Basics")
    await learner.goto(f"/learn/courses/{course_id}")
    await expect(learner.locator("#outline a[data-lesson-id]")).to_have_count(4)
    await expect(learner.locator("#lesson-locked")).to_contain_text("once you are enrolled")
    for lesson in ("CPR quiz", "Before you help", "What first aid is for (video)"):
        await learner.locator("#outline a", has_text=lesson).click()
        await expect(learner.locator("#lesson-title")).to_have_text(lesson)
        await expect(learner.locator("#lesson-locked")).to_be_visible()
        await assert_no_content(learner)

    await mark_document(learner)
    await learner.locator("#lesson-access").get_by_role("button", name="Enroll").click()
    await expect(learner.locator("#lesson-locked")).to_have_count(0, timeout=LIVE)
    await expect(learner.locator("video")).to_be_visible(timeout=LIVE)
    await expect(learner.locator("#course-progress [role=progressbar]")).to_be_visible()
    await learner.locator("#outline a", has_text="Before you help").click()
    await expect(learner.locator("article.reading")).to_contain_text(READING_LINE)
    assert await still_same_document(learner)


async def test_a_paid_course_shows_its_price_and_not_its_lessons(visitors: Visitors) -> None:
    learner = await visitors.logged_in(STUDENT_EMAIL)
    course_id = await course_id_of(learner, "Board Review Intensive")
    await learner.goto(f"/learn/courses/{course_id}")
    await expect(learner.locator("#outline a[data-lesson-id]")).to_have_count(1)
    buy = learner.locator("#lesson-access").get_by_role("button", name=re.compile(r"^Buy for"))
    await expect(buy).to_be_visible()
    assert "One block of questions a day" not in await learner.content()
    await expect(learner.locator("article.reading")).to_have_count(0)
