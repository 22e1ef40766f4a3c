"""A learner goes through the demo course in the browser: the video played to the end, the
quiz, the reading and a Q-bank test; the progress bar follows live, and the certificate
appears, downloads as a PDF, and verifies publicly."""

import re
import sqlite3
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import (
    ADMIN_EMAIL,
    DemoServer,
    Visitors,
    assert_every_control_labelled,
    mark_document,
    screenshot,
    still_same_document,
)

pytestmark = pytest.mark.browser
LIVE = 2000

FIND_LEARNING_COURSE = """async () => {
  const get = async (path) => (await fetch(path)).json();
  for (const course of await get("/api/v1/courses")) {
    const full = await get("/api/v1/courses/" + course.id);
    const kinds = new Set(full.chapters.flatMap((c) => c.lessons.map((l) => l.kind)));
    if (kinds.has("video") && kinds.has("quiz")) return full;
  }
  return null;
}"""


def qbank_answers(site: DemoServer, course_id: int) -> dict[int, int]:
    assert site.database_path is not None, "this test reads the answers from the SQLite file"
    with sqlite3.connect(site.database_path) as connection:
        rows = connection.execute(
            "SELECT id, answer FROM qbank_questions WHERE course_id = ?", (course_id,)
        )
        return dict(rows.fetchall())


async def progress_of(page: Page) -> int:
    bar = page.locator("#course-progress [role=progressbar]")
    return int(await bar.get_attribute("aria-valuenow") or "0")


async def sign_up(page: Page, name: str, email: str) -> None:
    await page.goto("/signup?institution=northwind-academy")
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill("learner-password-1")
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(re.compile(r"/learn$"))


async def admin_enrolls(admin: Page, learner_name: str, course_id: int) -> None:
    await admin.goto("/admin/students")
    await admin.get_by_role("link", name=learner_name).click()
    await expect(admin.locator("#enroll-course option").first).to_be_attached()
    await admin.get_by_label("Course", exact=True).select_option(str(course_id))
    await admin.get_by_role("button", name="Enroll", exact=True).click()
    await expect(admin.locator(f"#enrollment-rows tr[data-course-id='{course_id}']")).to_be_visible(
        timeout=LIVE
    )


PLAY_FROM = """async (v, start) => {
  const once = (name) => new Promise((r) => v.addEventListener(name, r, { once: true }));
  v.muted = true;
  if (v.readyState < 1) await once("loadedmetadata");
  const end = Number.isFinite(v.duration) ? v.duration : Number(v.dataset.duration);
  v.currentTime = start === null ? 0 : Math.max(0, end - start);
  v.playbackRate = 4;
  await v.play();
  await once("ended");
}"""


async def watch_video(page: Page, lesson: dict[str, Any]) -> None:
    """Skip to the last second first (which must not complete the lesson), then watch it all."""
    link = page.locator(f"#outline a[data-lesson-id='{lesson['id']}']")
    await link.click()
    video = page.locator("video")
    await expect(video).to_be_visible()
    async with page.expect_response(re.compile(r"/api/v1/activity$")) as reported:
        await video.evaluate(PLAY_FROM, 1)
    outcome = await (await reported.value).json()
    assert outcome["accepted"] >= 1
    assert not any(state["completed"] for state in outcome["lessons"])
    await expect(link).to_have_attribute("data-completed", "false")
    await video.evaluate(PLAY_FROM, None)
    await expect(link).to_have_attribute("data-completed", "true", timeout=LIVE)


async def take_quiz(page: Page, lesson: dict[str, Any], answers: list[int]) -> None:
    await page.locator(f"#outline a[data-lesson-id='{lesson['id']}']").click()
    form = page.locator("#quiz-form")
    for index, question in enumerate(lesson["questions"]):
        group = form.get_by_role("group", name=re.compile(re.escape(question["prompt"])))
        await group.get_by_label(question["choices"][answers[index]], exact=True).check()
    await form.get_by_role("button", name="Submit answers").click()


async def test_learner_completes_the_demo_course_and_gets_the_certificate(
    visitors: Visitors, site: DemoServer
) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    course = await admin.evaluate(FIND_LEARNING_COURSE)
    assert course is not None, "the demo data has no course with a video and a quiz"
    lessons = [lesson for chapter in course["chapters"] for lesson in chapter["lessons"]]

    learner = await visitors.person()
    await sign_up(learner, "Vera Video", "vera@northwind.test")
    await admin_enrolls(admin, "Vera Video", course["id"])
    await learner.goto(f"/learn/courses/{course['id']}")
    await expect(learner.locator("#course-progress [role=progressbar]")).to_be_visible()
    assert await progress_of(learner) == 0
    await mark_document(learner)

    for lesson in (lesson for lesson in lessons if lesson["kind"] == "video"):
        await watch_video(learner, lesson)
    moved = await progress_of(learner)
    assert moved > 0, "the progress bar did not move after the video"
    await screenshot(learner, "student-course-video")

    for lesson in (lesson for lesson in lessons if lesson["kind"] == "quiz"):
        wrong = [(q["answer"] + 1) % len(q["choices"]) for q in lesson["questions"]]
        await take_quiz(learner, lesson, wrong)
        await expect(learner.locator("#quiz-result [data-passed=false]")).to_be_visible()
        await assert_every_control_labelled(learner)
        await take_quiz(learner, lesson, [q["answer"] for q in lesson["questions"]])
        await expect(learner.locator("#quiz-result [data-passed=true]")).to_be_visible()
        await screenshot(learner, "student-course-quiz")

    for lesson in (lesson for lesson in lessons if lesson["kind"] == "reading"):
        await learner.locator(f"#outline a[data-lesson-id='{lesson['id']}']").click()
        await learner.get_by_role("button", name="Mark as read").click()
        mark = learner.locator(f"#outline a[data-lesson-id='{lesson['id']}']")
        await expect(mark).to_have_attribute("data-completed", "true", timeout=LIVE)

    answers = qbank_answers(site, course["id"])
    for lesson in (lesson for lesson in lessons if lesson["kind"] == "qbank"):
        await learner.locator(f"#outline a[data-lesson-id='{lesson['id']}']").click()
        await learner.get_by_label("Questions", exact=True).select_option("5")
        await learner.get_by_role("button", name="Start test").click()
        test = learner.locator("#qbank-test")
        await expect(test.locator("fieldset")).to_have_count(5)
        await assert_every_control_labelled(learner)
        for position, fieldset in enumerate(await test.locator("fieldset").all()):
            radio = fieldset.locator("input[type=radio]").first
            question_id = int((await radio.get_attribute("name") or "").rsplit("-", 1)[1])
            # One wrong answer, so that the feedback has both kinds.
            choice = answers[question_id] if position else (answers[question_id] + 1) % 2
            async with learner.expect_response(re.compile(r"/answers$")):
                await fieldset.locator(f"input[value='{choice}']").check()
        await test.get_by_role("button", name="Finish test").click()
        feedback = learner.locator("#qbank-feedback")
        await expect(feedback.locator("li[data-correct=true]")).to_have_count(4)
        await expect(feedback.locator("li[data-correct=false]")).to_have_count(1)
        await expect(feedback.locator("li[data-correct=false]")).to_contain_text("Right answer:")
        await screenshot(learner, "student-course-qbank")

    certificate = learner.locator("#certificate")
    await expect(certificate).to_be_visible(timeout=LIVE)
    assert await progress_of(learner) == 100
    assert await still_same_document(learner), "the course page was reloaded"
    await screenshot(learner, "student-course-complete")
    async with learner.expect_download() as download_info:
        await certificate.get_by_role("link", name="Download PDF").click()
    download = await download_info.value
    pdf = await download.path()
    assert pdf is not None
    assert pdf.read_bytes().startswith(b"%PDF")

    await certificate.get_by_role("link", name="Verification link").click()
    await expect(learner.locator("[data-verified=true]")).to_be_visible()
    await expect(learner.locator("#verification")).to_contain_text("Vera Video")
    await screenshot(learner, "certificate-verification")
    await learner.goto("/learn/certificates")
    await expect(learner.locator("#certificates article")).to_have_count(1)
    await screenshot(learner, "student-certificates-earned")


SUBTRACT_CASES = """() => [
  LecternPlayer.subtract([0, 10], []),
  LecternPlayer.subtract([0, 10], [[2, 4]]),
  LecternPlayer.subtract([0, 10], [[0, 3], [8, 12]]),
  LecternPlayer.subtract([5, 6], [[0, 10]]),
  LecternPlayer.subtract([0, 10], [[4, 5], [2, 3]]),
]"""


async def test_the_player_reports_only_played_time_not_yet_reported(visitors: Visitors) -> None:
    page = await visitors.logged_in("student@northwind.test")
    await page.goto("/learn/catalog")
    await (
        page.locator("article", has_text="Study Skills")
        .get_by_role("link", name="Open course")
        .click()
    )
    await expect(page.locator("#outline a[data-lesson-id]").first).to_be_visible()
    assert await page.evaluate(SUBTRACT_CASES) == [
        [[0, 10]],
        [[0, 2], [4, 10]],
        [[3, 8]],
        [],
        [[0, 2], [3, 4], [5, 10]],
    ]
