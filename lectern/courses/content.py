"""Editing a course's content: chapters, lessons and its question bank.

Content changes that alter what a course requires (adding or removing a required lesson,
changing `required` or `weight`) recompute the progress of the course's active enrollments in
the same transaction; an active enrollment whose kept facts now satisfy the course completes.
A completed enrollment stays completed and its certificate stays valid: a certificate states
what the learner completed when it was issued, and later edits do not take it back.
Cancelled enrollments are recomputed when they are reactivated.
"""

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses.catalog import catalog_changed
from lectern.courses.content_schemas import ChapterUpdate, LessonUpdate
from lectern.courses.schemas import ChapterIn, LessonIn, QbankQuestionIn
from lectern.courses.service import (
    new_chapter,
    new_lesson,
    new_qbank_question,
    require_staff,
)
from lectern.events.service import record_event
from lectern.events.types import (
    ChapterAdded,
    ChapterRemoved,
    ChapterUpdated,
    ContentChanged,
    LessonAdded,
    LessonRemoved,
    LessonUpdated,
    QbankAdded,
    QbankRemoved,
)
from lectern.models import Chapter, Course, Lesson, QbankQuestion
from lectern.models.enums import LessonKind
from lectern.platform.actor import Actor
from lectern.platform.errors import Invalid, NotFound
from lectern.progress.service import recompute_course
from lectern.staff.rules import CourseAction
from lectern.staff.service import course_for

# Fields whose change alters what the course requires, and so every learner's progress.
REQUIREMENT_FIELDS = {"required", "weight"}


async def _content_changed(session: AsyncSession, course: Course, event: ContentChanged) -> None:
    record_event(session, event, institution_id=course.institution_id)
    catalog_changed(session, course, was_listed=False)


# A part of a course's content that knows its course.
Part = TypeVar("Part", Chapter, Lesson)


async def _part_in_institution(
    session: AsyncSession, actor: Actor, model: type[Part], part_id: int, what: str
) -> tuple[Part, Course]:
    require_staff(actor)
    row = (
        await session.execute(
            select(model, Course)
            .join(Course, Course.id == model.course_id)
            .where(model.id == part_id, Course.institution_id == actor.institution_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No such {what}.")
    await course_for(session, actor, row[1].id, CourseAction.EDIT)
    return row[0], row[1]


async def chapter_in_institution(
    session: AsyncSession, actor: Actor, chapter_id: int
) -> tuple[Chapter, Course]:
    return await _part_in_institution(session, actor, Chapter, chapter_id, "chapter")


async def lesson_in_institution(
    session: AsyncSession, actor: Actor, lesson_id: int
) -> tuple[Lesson, Course]:
    return await _part_in_institution(session, actor, Lesson, lesson_id, "lesson")


async def _next_position(session: AsyncSession, column: object, where: object) -> int:
    highest = await session.scalar(select(func.max(column)).where(where))  # type: ignore[arg-type]
    return 0 if highest is None else int(highest) + 1


async def add_chapter(
    session: AsyncSession, actor: Actor, course_id: int, data: ChapterIn
) -> Chapter:
    """Append a chapter, with its lessons, to a course."""
    require_staff(actor)
    course = await course_for(session, actor, course_id, CourseAction.EDIT)
    position = await _next_position(session, Chapter.position, Chapter.course_id == course.id)
    chapter = new_chapter(course.id, position, data)
    session.add(chapter)
    await session.flush()
    await _content_changed(
        session, course, ChapterAdded(course_id=course.id, chapter_id=chapter.id)
    )
    if any(lesson.required for lesson in data.lessons):
        await recompute_course(session, course.id)
    return chapter


async def update_chapter(
    session: AsyncSession, actor: Actor, chapter_id: int, data: ChapterUpdate
) -> Chapter:
    chapter, course = await chapter_in_institution(session, actor, chapter_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if any(getattr(chapter, k) != v for k, v in changes.items()):
        for field, value in changes.items():
            setattr(chapter, field, value)
        await session.flush()
        await _content_changed(
            session, course, ChapterUpdated(course_id=course.id, chapter_id=chapter.id)
        )
    return chapter


async def delete_chapter(session: AsyncSession, actor: Actor, chapter_id: int) -> None:
    """Remove a chapter and its lessons (with the learners' facts about them)."""
    chapter, course = await chapter_in_institution(session, actor, chapter_id)
    await session.delete(chapter)
    await session.flush()
    await _content_changed(
        session, course, ChapterRemoved(course_id=course.id, chapter_id=chapter_id)
    )
    await recompute_course(session, course.id)


async def add_lesson(
    session: AsyncSession, actor: Actor, chapter_id: int, data: LessonIn
) -> Lesson:
    """Append a lesson to a chapter; a required one lowers the progress of active learners."""
    chapter, course = await chapter_in_institution(session, actor, chapter_id)
    position = await _next_position(session, Lesson.position, Lesson.chapter_id == chapter.id)
    lesson = new_lesson(course.id, chapter, position, data)
    session.add(lesson)
    await session.flush()
    await _content_changed(session, course, LessonAdded(course_id=course.id, lesson_id=lesson.id))
    if lesson.required:
        await recompute_course(session, course.id)
    return lesson


def _check_complete_for_kind(lesson: Lesson) -> None:
    if lesson.kind == LessonKind.VIDEO and lesson.duration_s <= 0:
        raise Invalid("A video lesson needs duration_s > 0.")
    if lesson.kind == LessonKind.QUIZ and not lesson.questions:
        raise Invalid("A quiz lesson needs questions.")


async def update_lesson(
    session: AsyncSession, actor: Actor, lesson_id: int, data: LessonUpdate
) -> Lesson:
    """Change a lesson; changing `required` or `weight` recomputes the course's progress.
    Facts already recorded stay: a lesson completed before a change stays completed."""
    lesson, course = await lesson_in_institution(session, actor, lesson_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    changed = {k for k, v in changes.items() if getattr(lesson, k) != v}
    if not changed:
        return lesson
    for field in changed:
        setattr(lesson, field, changes[field])
    _check_complete_for_kind(lesson)
    await session.flush()
    await _content_changed(
        session,
        course,
        LessonUpdated(course_id=course.id, lesson_id=lesson.id, fields=sorted(changed)),
    )
    if changed & REQUIREMENT_FIELDS:
        await recompute_course(session, course.id)
    return lesson


async def delete_lesson(session: AsyncSession, actor: Actor, lesson_id: int) -> None:
    """Remove a lesson (and the facts about it); progress is recomputed without it."""
    lesson, course = await lesson_in_institution(session, actor, lesson_id)
    was_required = lesson.required
    await session.delete(lesson)
    await session.flush()
    await _content_changed(session, course, LessonRemoved(course_id=course.id, lesson_id=lesson_id))
    if was_required:
        await recompute_course(session, course.id)


async def question_bank(
    session: AsyncSession, actor: Actor, course_id: int
) -> Sequence[QbankQuestion]:
    require_staff(actor)
    course = await course_for(session, actor, course_id, CourseAction.READ)
    return (
        await session.scalars(
            select(QbankQuestion)
            .where(QbankQuestion.course_id == course.id)
            .order_by(QbankQuestion.id)
        )
    ).all()


async def add_qbank_questions(
    session: AsyncSession, actor: Actor, course_id: int, questions: Sequence[QbankQuestionIn]
) -> list[QbankQuestion]:
    """Add questions to a course's bank; tests drawn later may include them."""
    require_staff(actor)
    course = await course_for(session, actor, course_id, CourseAction.EDIT)
    added = [new_qbank_question(course.id, q) for q in questions]
    session.add_all(added)
    await session.flush()
    await _content_changed(session, course, QbankAdded(course_id=course.id, questions=len(added)))
    return added


async def delete_qbank_question(session: AsyncSession, actor: Actor, question_id: int) -> None:
    """Remove a question from the bank, and from the tests it was drawn into."""
    require_staff(actor)
    row = (
        await session.execute(
            select(QbankQuestion, Course)
            .join(Course, Course.id == QbankQuestion.course_id)
            .where(QbankQuestion.id == question_id, Course.institution_id == actor.institution_id)
        )
    ).first()
    if row is None:
        raise NotFound("No such question.")
    question, course = row
    await course_for(session, actor, course.id, CourseAction.EDIT)
    await session.delete(question)
    await session.flush()
    await _content_changed(
        session, course, QbankRemoved(course_id=course.id, question_id=question_id)
    )
