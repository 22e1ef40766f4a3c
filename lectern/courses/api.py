from fastapi import Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.courses import service
from lectern.courses.images import image_url
from lectern.courses.markdown import render_markdown
from lectern.courses.rules import may_see_content, parse_status
from lectern.courses.schemas import (
    ChapterOut,
    CourseCreate,
    CourseOut,
    CourseUpdate,
    LessonOut,
    QuestionOut,
    TeacherOut,
)
from lectern.courses.service import CatalogEntry
from lectern.enrollments.schemas import EnrollmentOut
from lectern.models import Course, Lesson
from lectern.models.enums import CourseRole, LessonKind
from lectern.platform.actor import Actor
from lectern.platform.auth import admin_actor, current_actor, staff_actor
from lectern.platform.db import Database, get_database, read_session
from lectern.platform.errors import Invalid
from lectern.platform.routes import api_router
from lectern.platform.schemas import PathId
from lectern.staff.service import teaching_staff

router = api_router(prefix="/api/v1", tags=["courses"])


def lesson_out(lesson: Lesson, *, with_answers: bool, with_content: bool = True) -> LessonOut:
    """A lesson as the caller may see it; without content, only what the outline shows: no
    reading body, no video URL, no quiz questions."""
    out = LessonOut(
        id=lesson.id,
        title=lesson.title,
        kind=lesson.kind,
        position=lesson.position,
        required=lesson.required,
        weight=lesson.weight,
    )
    if lesson.kind == LessonKind.VIDEO:
        out.duration_s = lesson.duration_s
        if with_content:
            out.video_url = lesson.video_url
    elif lesson.kind == LessonKind.QUIZ:
        out.pass_mark = lesson.pass_mark
        if not with_content:
            return out
        out.questions = [
            QuestionOut(
                prompt=q["prompt"],
                choices=q["choices"],
                answer=q["answer"] if with_answers else None,
            )
            for q in lesson.questions
        ]
    elif lesson.kind == LessonKind.READING and with_content:
        out.body, out.body_html = lesson.body, render_markdown(lesson.body)
    elif lesson.kind == LessonKind.QBANK:
        out.pass_mark = lesson.pass_mark
    return out


def course_out(entry: CatalogEntry, *, with_outline: bool, actor: Actor) -> CourseOut:
    course: Course = entry.course
    enrollment = entry.enrollment
    content_access = may_see_content(
        actor, course.institution_id, enrollment.status if enrollment else None, entry.course_role
    )
    chapters = (
        [
            ChapterOut(
                id=chapter.id,
                title=chapter.title,
                position=chapter.position,
                lessons=[
                    lesson_out(lesson, with_answers=actor.is_staff, with_content=content_access)
                    for lesson in chapter.lessons
                ],
            )
            for chapter in course.chapters
        ]
        if with_outline
        else []
    )
    return CourseOut(
        id=course.id,
        title=course.title,
        slug=course.slug,
        description=course.description,
        status=course.status,
        access=course.access,
        price_cents=course.price_cents,
        currency=course.currency,
        institution_id=course.institution_id,
        qbank_required=course.qbank_required,
        qbank_pass_mark=course.qbank_pass_mark,
        image_url=image_url(course.image),
        enrollment_opens_at=course.enrollment_opens_at,
        enrollment_closes_at=course.enrollment_closes_at,
        access_days=course.access_days,
        seat_limit=course.seat_limit,
        waitlist=course.waitlist,
        seats_left=None
        if course.seat_limit is None or entry.seats_taken is None
        else max(course.seat_limit - entry.seats_taken, 0),
        waitlist_position=entry.waitlist_position,
        created_at=course.created_at,
        chapters=chapters,
        content_access=content_access,
        enrollment_status=enrollment.status if enrollment else None,
        request_status=entry.request_status,
        enrollment=EnrollmentOut.model_validate(enrollment).model_dump(mode="json")
        if enrollment
        else None,
    )


def _edited(course: Course) -> CatalogEntry:
    # Whoever created or changed a course is an admin or the course's instructor.
    return CatalogEntry(course, None, None, course_role=CourseRole.INSTRUCTOR)


@router.get("/courses", response_model=list[CourseOut])
async def list_courses(
    status_filter: str | None = Query(None, alias="status"),
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> list[CourseOut]:
    try:
        wanted = parse_status(status_filter) if status_filter else None
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    entries = await service.catalog(session, actor, status=wanted)
    return [course_out(entry, with_outline=False, actor=actor) for entry in entries]


@router.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CourseOut)
async def create_course(
    body: CourseCreate, actor: Actor = Depends(staff_actor), db: Database = Depends(get_database)
) -> CourseOut:
    course = await db.run(lambda s: service.create_course(s, actor, body))
    return course_out(_edited(course), with_outline=True, actor=actor)


@router.get("/courses/{course_id}", response_model=CourseOut)
async def get_course(
    course_id: PathId,
    actor: Actor = Depends(current_actor),
    session: AsyncSession = Depends(read_session),
) -> CourseOut:
    entry = await service.readable_course(session, actor, course_id)
    out = course_out(entry, with_outline=True, actor=actor)
    out.staff = [
        TeacherOut(full_name=name, role=role)
        for name, role in await teaching_staff(session, entry.course.id)
    ]
    return out


@router.patch("/courses/{course_id}", response_model=CourseOut)
async def update_course(
    course_id: PathId,
    body: CourseUpdate,
    actor: Actor = Depends(staff_actor),
    db: Database = Depends(get_database),
) -> CourseOut:
    course = await db.run(lambda s: service.update_course(s, actor, course_id, body))
    return course_out(_edited(course), with_outline=True, actor=actor)


@router.delete("/courses/{course_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_course(
    course_id: PathId, actor: Actor = Depends(admin_actor), db: Database = Depends(get_database)
) -> None:
    await db.run(lambda s: service.delete_course(s, actor, course_id))
