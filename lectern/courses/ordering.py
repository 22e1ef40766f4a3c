"""Putting a course's chapters, or a chapter's lessons, in a new order in one transaction.

The caller names every part once, in the new order; positions become 0, 1, 2, … A list that
leaves a part out, repeats one or names another's is refused whole, so that an editor working
from a stale outline never half-applies its order.
"""

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses.content import chapter_in_institution
from lectern.courses.service import course_in_institution, load_course, require_staff
from lectern.events.service import record_event
from lectern.events.types import ChapterUpdated
from lectern.models import Chapter, Course, Lesson
from lectern.platform.actor import Actor
from lectern.platform.errors import Invalid


def is_reordering(given: Sequence[int], current: Sequence[int]) -> bool:
    """Whether `given` names each of `current` exactly once."""
    return len(given) == len(current) and set(given) == set(current)


Part = TypeVar("Part", Chapter, Lesson)


def reposition(parts: Sequence[Part], ids: Sequence[int], refusal: str) -> list[Part]:
    """Give `parts` the positions 0, 1, 2… in the order of `ids`; the parts that moved."""
    if not is_reordering(ids, [part.id for part in parts]):
        raise Invalid(refusal)
    by_id = {part.id: part for part in parts}
    moved = [
        by_id[part_id]
        for position, part_id in enumerate(ids)
        if by_id[part_id].position != position
    ]
    for position, part_id in enumerate(ids):
        by_id[part_id].position = position
    return moved


async def order_lessons(
    session: AsyncSession, actor: Actor, chapter_id: int, lesson_ids: Sequence[int]
) -> Course:
    """Give a chapter's lessons the order of `lesson_ids`; the course, its outline loaded."""
    chapter, course = await chapter_in_institution(session, actor, chapter_id)
    lessons = (
        await session.scalars(
            select(Lesson).where(Lesson.chapter_id == chapter.id).with_for_update()
        )
    ).all()
    refusal = "Name each lesson of this chapter exactly once, in the new order."
    if reposition(lessons, lesson_ids, refusal):
        await session.flush()
        record_event(
            session,
            ChapterUpdated(course_id=course.id, chapter_id=chapter.id),
            institution_id=course.institution_id,
        )
    return await load_course(session, course.id)


async def order_chapters(
    session: AsyncSession, actor: Actor, course_id: int, chapter_ids: Sequence[int]
) -> Course:
    """Give a course's chapters the order of `chapter_ids`; the course, its outline loaded."""
    require_staff(actor)
    course = await course_in_institution(session, actor, course_id)
    chapters = (
        await session.scalars(
            select(Chapter).where(Chapter.course_id == course.id).with_for_update()
        )
    ).all()
    refusal = "Name each chapter of this course exactly once, in the new order."
    for chapter in reposition(chapters, chapter_ids, refusal):
        record_event(
            session,
            ChapterUpdated(course_id=course.id, chapter_id=chapter.id),
            institution_id=course.institution_id,
        )
    await session.flush()
    return await load_course(session, course.id)
