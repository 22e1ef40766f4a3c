"""An admin builds a course in the editor: settings, a chapter, a reading and a quiz lesson,
a Q-bank question, a lesson made optional; then publishes it and a student finds it."""

import io
import re

import pytest
from PIL import Image
from playwright.async_api import expect

from tests.web.conftest import (
    ADMIN_EMAIL,
    STUDENT_EMAIL,
    Visitors,
    assert_every_control_labelled,
    mark_document,
    screenshot,
    still_same_document,
)

pytestmark = pytest.mark.browser
LIVE = 2000


async def test_admin_builds_and_publishes_a_course_in_the_editor(visitors: Visitors) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/courses")
    await admin.get_by_label("Title").fill("Anatomy Basics")
    await admin.get_by_label("Access").select_option("open")
    await admin.get_by_role("button", name="Create draft").click()
    await admin.wait_for_url(re.compile(r"/admin/courses/\d+$"))
    await expect(admin.get_by_label("Title", exact=True)).to_have_value("Anatomy Basics")

    await admin.get_by_label("New chapter").fill("Bones")
    await admin.get_by_role("button", name="Add chapter").click()
    chapter = admin.locator("#editor-outline article", has_text="Bones")
    await expect(chapter).to_be_visible(timeout=LIVE)

    add = chapter.locator("form", has=admin.get_by_role("button", name="Add lesson"))
    await add.get_by_label("Lesson title").fill("The skeleton")
    await add.get_by_label("Kind").select_option("reading")
    await add.get_by_label("Text (Markdown)").fill("The adult skeleton has **206** bones.")
    await add.get_by_role("button", name="Add lesson").click()
    reading = chapter.locator("li[data-lesson-id]", has_text="The skeleton")
    await expect(reading).to_be_visible(timeout=LIVE)

    await add.get_by_label("Lesson title").fill("Bone quiz")
    await add.get_by_label("Kind").select_option("quiz")
    await add.get_by_label("First question").fill("Longest bone?")
    await add.get_by_label("Choices, one per line").fill("Femur\nTibia\nHumerus")
    await add.get_by_label("Number of the correct choice").fill("1")
    await add.get_by_role("button", name="Add lesson").click()
    quiz = chapter.locator("li[data-lesson-id]", has_text="Bone quiz")
    await expect(quiz).to_be_visible(timeout=LIVE)

    await quiz.locator("summary", has_text="quiz questions").click()
    await quiz.get_by_label("New question").fill("Smallest bone?")
    await quiz.get_by_label("Choices, one per line").fill("Stapes\nFemur")
    await quiz.get_by_role("button", name="Add quiz question").click()
    await expect(quiz.locator("summary", has_text="quiz questions")).to_have_text(
        "2 quiz questions", timeout=LIVE
    )

    await reading.get_by_label("Required").uncheck()
    await reading.get_by_role("button", name="Save The skeleton").click()
    await expect(reading.get_by_label("Required")).not_to_be_checked()

    await admin.get_by_label("Question", exact=True).fill("How many ribs?")
    await admin.locator("#qb-choices").fill("12 pairs\n10 pairs")
    await admin.get_by_label("Topic").fill("thorax")
    await admin.get_by_role("button", name="Add question").click()
    await expect(admin.locator("#editor-qbank")).to_contain_text("How many ribs?", timeout=LIVE)

    # A learner's open catalog shows the course the moment it is published, without a reload.
    student = await visitors.logged_in(STUDENT_EMAIL)
    await student.goto("/learn/catalog")
    await expect(student.locator("#catalog[aria-busy=false]")).to_be_attached()
    await mark_document(student)
    card = student.locator("article", has_text="Anatomy Basics")
    await expect(card).to_have_count(0)

    await admin.get_by_label("Status").select_option("published")
    await admin.get_by_role("button", name="Save settings").click()
    await expect(admin.locator("#settings-result")).to_have_text("Saved.")
    await assert_every_control_labelled(admin)
    await screenshot(admin, "admin-course-editor-built")

    await expect(card).to_be_visible(timeout=LIVE)
    assert await still_same_document(student)
    await card.get_by_role("button", name="Enroll").click()
    # The card is redrawn by the enrollment's own event, so follow the link rather than click it.
    open_course = card.get_by_role("link", name="Open course")
    await expect(open_course).to_be_visible()
    await student.goto(await open_course.get_attribute("href") or "")
    await expect(student.locator("#outline a[data-lesson-id]")).to_have_count(2)
    await expect(student.locator("#lesson article")).to_contain_text("206")


async def test_an_author_edits_reorders_and_deletes_lessons_and_chapters_in_place(
    visitors: Visitors,
) -> None:
    admin = await visitors.logged_in(ADMIN_EMAIL)
    await admin.goto("/admin/courses")
    row = admin.locator("#course-rows tr", has_text="First Aid Basics")
    await row.get_by_role("link", name="Edit").click()
    outline = admin.locator("#editor-outline")
    first = outline.locator("article").first
    await expect(first).to_be_visible()
    chapters = outline.locator("article h3")
    lessons = first.locator("li[data-lesson-id] > div > strong")
    chapter_titles = await chapters.all_inner_texts()
    lesson_titles = await lessons.all_inner_texts()
    assert len(chapter_titles) >= 2
    assert len(lesson_titles) >= 2

    # Move the first lesson down, then the second chapter up: one request each, shown live.
    top = lesson_titles[0]
    await first.get_by_role("button", name=f"Move lesson {top} down").click()
    await expect(lessons).to_have_text([lesson_titles[1], top, *lesson_titles[2:]], timeout=LIVE)
    second = chapter_titles[1].split(". ", 1)[1]
    await outline.get_by_role("button", name=f"Move chapter {second} up").click()
    await expect(chapters.first).to_have_text(f"1. {second}", timeout=LIVE)
    chapter_id = await outline.locator("article", has_text=top).get_attribute("data-chapter-id")
    moved = outline.locator(f"article[data-chapter-id='{chapter_id}']")

    # Rename the lesson in place.
    lesson = moved.locator("li[data-lesson-id]", has_text=top)
    await lesson.locator("summary", has_text=f"Edit {top}").click()
    await lesson.get_by_label("Lesson title").fill("Renamed lesson")
    await lesson.get_by_role("button", name="Save changes").click()
    renamed = moved.locator("li[data-lesson-id]", has_text="Renamed lesson")
    await expect(renamed).to_be_visible(timeout=LIVE)

    # Deleting asks first: Cancel keeps it, Delete lesson removes it.
    await renamed.get_by_role("button", name="Delete lesson Renamed lesson").click()
    dialog = admin.get_by_role("dialog")
    await expect(dialog).to_contain_text("Delete the lesson Renamed lesson?")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    await expect(renamed).to_be_visible()
    await renamed.get_by_role("button", name="Delete lesson Renamed lesson").click()
    await dialog.get_by_role("button", name="Delete lesson").click()
    await expect(renamed).to_have_count(0, timeout=LIVE)
    await screenshot(admin, "admin-course-editor-reordered")

    # The course gets an image, scaled down on upload.
    await admin.get_by_label("Image file").set_input_files(
        files=[{"name": "cover.png", "mimeType": "image/png", "buffer": _png((1600, 1200))}]
    )
    await admin.get_by_role("button", name="Upload image").click()
    await expect(admin.locator("#image-result")).to_have_text("Image saved.")
    await expect(admin.locator("#course-image")).to_be_visible()

    # Learners see the new order and the image, in the catalog and on the course's details.
    student = await visitors.logged_in(STUDENT_EMAIL)
    await student.goto("/learn/catalog")
    card = student.locator("#catalog article", has_text="First Aid Basics")
    await expect(card.locator("img.course-image")).to_have_attribute(
        "src", re.compile(r"^/course-images/")
    )
    course_id = await card.get_attribute("data-course-id")
    await card.get_by_role("link", name="First Aid Basics").click()
    details = student.locator("#course-details")
    await expect(details).to_have_attribute("aria-busy", "false")
    await expect(details.locator("img.course-image")).to_be_visible()
    await expect(details.locator("ol > li > strong").first).to_have_text(second)
    await expect(details).not_to_contain_text("Renamed lesson")
    await expect(details.locator(".facts")).to_contain_text("Access")
    await screenshot(student, "student-course-details")
    await student.goto(f"/learn/courses/{course_id}")
    await expect(student.locator("#outline")).not_to_contain_text("Renamed lesson")
    await expect(student.locator("#outline h3").first).to_have_text(second)


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, "PNG")
    return out.getvalue()
