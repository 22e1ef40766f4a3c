from fastapi import Depends, status
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses import content, ordering
from lectern.courses.api import lesson_out
from lectern.courses.content_schemas import (
    ChapterOrder,
    ChapterUpdate,
    LessonOrder,
    LessonUpdate,
    QbankQuestionOut,
    QbankQuestionsIn,
)
from lectern.courses.schemas import ChapterIn, ChapterOut, LessonIn, LessonOut
from lectern.models import Chapter, Course
from lectern.platform.actor import Actor
from lectern.platform.auth import staff_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.staff.rules import CourseAction
from lectern.staff.service import course_for

router = api_router(prefix="/api/v1", tags=["course content"])


def chapter_out(chapter: Chapter) -> ChapterOut:
    return ChapterOut(
        id=chapter.id,
        title=chapter.title,
        position=chapter.position,
        lessons=[lesson_out(lesson, with_answers=True) for lesson in chapter.lessons],
    )


def outline_out(course: Course) -> list[ChapterOut]:
    return [chapter_out(chapter) for chapter in course.chapters]


# Scope dependencies run before the body is validated: another institution's ids answer 404
# whatever the body says.
async def course_in_scope(
    course_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> int:
    await course_for(session, actor, course_id, CourseAction.EDIT)
    return course_id


async def lesson_in_scope(
    lesson_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> int:
    await content.lesson_in_institution(session, actor, lesson_id)
    return lesson_id


async def chapter_in_scope(
    chapter_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> int:
    await content.chapter_in_institution(session, actor, chapter_id)
    return chapter_id


@router.post(
    "/courses/{course_id}/chapters", response_model=ChapterOut, status_code=status.HTTP_201_CREATED
)
async def add_chapter(
    body: ChapterIn,
    course_id: int = Depends(course_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> ChapterOut:
    return chapter_out(await db.run(lambda s: content.add_chapter(s, actor, course_id, body)))


@router.patch("/chapters/{chapter_id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_chapter(
    body: ChapterUpdate,
    chapter_id: int = Depends(chapter_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> None:
    await db.run(lambda s: content.update_chapter(s, actor, chapter_id, body))


@router.delete("/chapters/{chapter_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_chapter(
    chapter_id: PathId, actor: Actor = Depends(staff_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: content.delete_chapter(s, actor, chapter_id))


@router.post("/courses/{course_id}/chapters/order", response_model=list[ChapterOut])
async def order_chapters(
    body: ChapterOrder,
    course_id: int = Depends(course_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> list[ChapterOut]:
    """Put the course's chapters in the order given (every chapter once); the new outline."""
    return outline_out(
        await db.run(lambda s: ordering.order_chapters(s, actor, course_id, body.chapter_ids))
    )


@router.post("/chapters/{chapter_id}/lessons/order", response_model=list[ChapterOut])
async def order_lessons(
    body: LessonOrder,
    chapter_id: int = Depends(chapter_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> list[ChapterOut]:
    """Put the chapter's lessons in the order given (every lesson once); the new outline."""
    return outline_out(
        await db.run(lambda s: ordering.order_lessons(s, actor, chapter_id, body.lesson_ids))
    )


@router.post(
    "/chapters/{chapter_id}/lessons", response_model=LessonOut, status_code=status.HTTP_201_CREATED
)
async def add_lesson(
    body: LessonIn,
    chapter_id: int = Depends(chapter_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> LessonOut:
    lesson = await db.run(lambda s: content.add_lesson(s, actor, chapter_id, body))
    return lesson_out(lesson, with_answers=True)


@router.patch("/lessons/{lesson_id}", response_model=LessonOut)
async def update_lesson(
    body: LessonUpdate,
    lesson_id: int = Depends(lesson_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> LessonOut:
    lesson = await db.run(lambda s: content.update_lesson(s, actor, lesson_id, body))
    return lesson_out(lesson, with_answers=True)


@router.delete("/lessons/{lesson_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_lesson(
    lesson_id: PathId, actor: Actor = Depends(staff_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: content.delete_lesson(s, actor, lesson_id))


@router.get("/courses/{course_id}/qbank", response_model=list[QbankQuestionOut])
async def question_bank(
    course_id: PathId,
    actor: Actor = Depends(staff_actor),
    session: AsyncSession = Depends(read_session),
) -> list[QbankQuestionOut]:
    questions = await content.question_bank(session, actor, course_id)
    return [QbankQuestionOut.model_validate(q) for q in questions]


@router.post(
    "/courses/{course_id}/qbank",
    response_model=list[QbankQuestionOut],
    status_code=status.HTTP_201_CREATED,
)
async def add_qbank_questions(
    body: QbankQuestionsIn,
    course_id: int = Depends(course_in_scope),
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> list[QbankQuestionOut]:
    added = await db.run(lambda s: content.add_qbank_questions(s, actor, course_id, body.questions))
    return [QbankQuestionOut.model_validate(q) for q in added]


@router.delete("/qbank-questions/{question_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_qbank_question(
    question_id: PathId, actor: Actor = Depends(staff_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: content.delete_qbank_question(s, actor, question_id))
