"""Commands and queries on courses and their outline."""

from dataclasses import dataclass, replace

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from lectern.courses.catalog import catalog_changed
from lectern.courses.schemas import ChapterIn, CourseCreate, CourseUpdate, LessonIn, QbankQuestionIn
from lectern.enrollments import seats
from lectern.enrollments.pair import close_waitlist, fill_freed_seats
from lectern.enrollments.rules import waitlist_allowed
from lectern.events.service import record_event
from lectern.events.types import (
    COURSE_STATUS_CHANGED,
    CourseChanged,
    CourseCreated,
    CourseDeleted,
    CourseUpdated,
)
from lectern.institutions.rules import free_slug, slugify
from lectern.models import (
    AccessRequest,
    Chapter,
    Course,
    CourseStaff,
    Enrollment,
    Lesson,
    QbankQuestion,
)
from lectern.models.enums import CourseStatus
from lectern.platform.actor import Actor
from lectern.platform.errors import Conflict, Forbidden, Invalid, NotFound
from lectern.progress.service import recompute_course
from lectern.staff.rules import CourseAction
from lectern.staff.service import add_creator, course_for, courses_allowing


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    course: Course
    enrollment: Enrollment | None
    request_status: str | None
    seats_taken: int | None = None  # of a course with a seat limit
    waitlist_position: int | None = None
    # The caller's role in the course, if they are its staff.
    course_role: str | None = None


# Enrollment terms a PATCH may set back to null: no window, no access limit, no seat limit.
CLEARABLE = {"enrollment_opens_at", "enrollment_closes_at", "access_days", "seat_limit"}


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("Only admins and instructors edit courses.")


def course_payload(course: Course) -> dict[str, object]:
    return {
        "id": course.id,
        "title": course.title,
        "status": course.status,
        "access": course.access,
        "price_cents": course.price_cents,
        "currency": course.currency,
    }


async def _free_slug(session: AsyncSession, institution_id: int, title: str) -> str:
    base = slugify(title)
    taken = set(
        (
            await session.scalars(
                select(Course.slug).where(
                    Course.institution_id == institution_id,
                    (Course.slug == base) | Course.slug.like(f"{base}-%"),
                )
            )
        ).all()
    )
    return free_slug(base, taken)


def new_lesson(course_id: int, chapter: Chapter, position: int, data: LessonIn) -> Lesson:
    return Lesson(
        course_id=course_id,
        chapter=chapter,
        title=data.title,
        kind=data.kind,
        position=position,
        required=data.required,
        weight=data.weight,
        duration_s=data.duration_s,
        video_url=data.video_url,
        body=data.body,
        pass_mark=data.pass_mark,
        questions=[q.model_dump() for q in data.questions],
    )


def new_chapter(course_id: int, position: int, data: ChapterIn) -> Chapter:
    chapter = Chapter(course_id=course_id, title=data.title, position=position, lessons=[])
    for index, lesson in enumerate(data.lessons):
        chapter.lessons.append(new_lesson(course_id, chapter, index, lesson))
    return chapter


def new_qbank_question(course_id: int, data: QbankQuestionIn) -> QbankQuestion:
    return QbankQuestion(
        course_id=course_id,
        prompt=data.prompt,
        choices=list(data.choices),
        answer=data.answer,
        topic=data.topic,
    )


async def create_course(session: AsyncSession, actor: Actor, data: CourseCreate) -> Course:
    """A course in the actor's institution, with its chapters, lessons and question bank."""
    require_staff(actor)
    _require_waitlist_allowed(data.access, data.waitlist)
    course = Course(
        institution_id=actor.institution_id,
        title=data.title,
        slug=await _free_slug(session, actor.institution_id, data.title),
        description=data.description,
        status=data.status,
        access=data.access,
        price_cents=data.price_cents,
        currency=data.currency,
        qbank_required=data.qbank_required,
        qbank_pass_mark=data.qbank_pass_mark,
        enrollment_opens_at=data.enrollment_opens_at,
        enrollment_closes_at=data.enrollment_closes_at,
        access_days=data.access_days,
        seat_limit=data.seat_limit,
        waitlist=data.waitlist,
    )
    session.add(course)
    await session.flush()
    session.add_all(new_chapter(course.id, i, chapter) for i, chapter in enumerate(data.chapters))
    session.add_all(new_qbank_question(course.id, q) for q in data.qbank)
    await session.flush()
    await add_creator(session, actor, course.id)
    record_event(
        session, CourseCreated(**course_payload(course)), institution_id=course.institution_id
    )
    return await load_course(session, course.id)


def _require_waitlist_allowed(access: str, waitlist: bool) -> None:
    if not waitlist_allowed(access, waitlist):
        raise Invalid(
            "A paid course keeps no waitlist: its seats are bought, and a full one refuses"
            " checkout (409 course-full). Turn the waitlist off, or raise the seat limit.",
            slug="paid-course-waitlist",
        )


async def update_course(
    session: AsyncSession, actor: Actor, course_id: int, data: CourseUpdate
) -> Course:
    """Change a course's fields; the same change again writes nothing."""
    require_staff(actor)
    course = await course_for(session, actor, course_id, CourseAction.EDIT)
    changes = {
        field: value
        for field, value in data.model_dump(exclude_unset=True).items()
        if (value is not None or field in CLEARABLE) and getattr(course, field) != value
    }
    if not changes:
        return await load_course(session, course.id)
    old_status = course.status
    for field, value in changes.items():
        setattr(course, field, value)
    if course.access == "paid" and course.price_cents <= 0:
        raise Invalid("A paid course needs a price.", slug="price-required")
    _require_waitlist_allowed(course.access, course.waitlist)
    opens, closes = course.enrollment_opens_at, course.enrollment_closes_at
    if opens is not None and closes is not None and opens >= closes:
        raise Invalid(
            "enrollment_opens_at must come before enrollment_closes_at.",
            slug="enrollment-window-invalid",
        )
    await session.flush()
    changed: type[CourseChanged] = CourseUpdated
    if course.status != old_status:
        changed = COURSE_STATUS_CHANGED[CourseStatus(course.status)]
    record_event(session, changed(**course_payload(course)), institution_id=course.institution_id)
    catalog_changed(session, course, was_listed=old_status == CourseStatus.PUBLISHED)
    if changes.keys() & {"qbank_required", "qbank_pass_mark"}:
        await recompute_course(session, course.id)
    if "waitlist" in changes and not course.waitlist:
        await close_waitlist(session, course)
    if changes.keys() & {"seat_limit", "waitlist"}:
        await fill_freed_seats(session, course)  # a raised or lifted limit seats those waiting
    return await load_course(session, course.id)


async def delete_course(session: AsyncSession, actor: Actor, course_id: int) -> None:
    """Delete a course nobody was ever enrolled in; one with enrollments can only be archived."""
    if not actor.is_admin:
        raise Forbidden("Only an admin deletes courses.")
    course = await course_in_institution(session, actor, course_id)
    has_learners = await session.scalar(
        select(
            exists().where(Enrollment.course_id == course.id)
            | exists().where(AccessRequest.course_id == course.id)
        )
    )
    if has_learners:
        raise Conflict(
            "This course has enrollments or requests; archive it instead.", slug="course-in-use"
        )
    await session.delete(course)
    await session.flush()
    record_event(session, CourseDeleted(id=course_id), institution_id=actor.institution_id)


async def course_in_institution(session: AsyncSession, actor: Actor, course_id: int) -> Course:
    """A course the actor may edit: any of their institution's for an admin, one they are an
    instructor of for an instructor."""
    return await course_for(session, actor, course_id, CourseAction.EDIT)


async def load_course(session: AsyncSession, course_id: int) -> Course:
    return (
        await session.scalars(
            select(Course)
            .where(Course.id == course_id)
            .options(selectinload(Course.chapters).selectinload(Chapter.lessons))
            .execution_options(populate_existing=True)
        )
    ).one()


async def readable_course(session: AsyncSession, actor: Actor, course_id: int) -> CatalogEntry:
    """A course with its outline, if the actor may read it: admins see their institution's,
    instructors those they are staff of, learners the published ones and those they are
    enrolled in."""
    if actor.is_staff:
        course = await course_for(session, actor, course_id, CourseAction.READ)
    else:
        found = await session.get(Course, course_id)
        if found is None or found.institution_id != actor.institution_id:
            raise NotFound("No such course.")
        course = found
    [entry] = await _with_caller_state(session, actor, select(Course).where(Course.id == course.id))
    visible = (
        actor.is_staff
        or course.status == CourseStatus.PUBLISHED
        or (entry.enrollment is not None and entry.enrollment.status != "cancelled")
    )
    if not visible:
        raise NotFound("No such course.")
    await load_course(session, course.id)
    return entry


async def catalog(
    session: AsyncSession, actor: Actor, *, status: CourseStatus | None = None
) -> list[CatalogEntry]:
    """Courses the caller may see, each with the caller's enrollment and latest request."""
    query = select(Course).where(Course.institution_id == actor.institution_id)
    if actor.is_staff:
        query = query.where(courses_allowing(actor, CourseAction.READ))
        if status is not None:
            query = query.where(Course.status == status)
    else:
        query = query.where(Course.status == CourseStatus.PUBLISHED)
    return await _with_caller_state(session, actor, query.order_by(Course.title, Course.id))


async def _with_caller_state(
    session: AsyncSession, actor: Actor, courses: Select[Course]
) -> list[CatalogEntry]:
    """The courses of the query, each with the caller's enrollment, latest request and role
    (for an instructor), in one statement."""
    latest_request = (
        select(AccessRequest.status)
        .where(AccessRequest.course_id == Course.id, AccessRequest.user_id == actor.id)
        .order_by(AccessRequest.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    role = (
        select(CourseStaff.role)
        .where(CourseStaff.course_id == Course.id, CourseStaff.user_id == actor.id)
        .scalar_subquery()
    )
    query = courses.add_columns(Enrollment, latest_request, role).outerjoin(
        Enrollment, (Enrollment.course_id == Course.id) & (Enrollment.user_id == actor.id)
    )
    instructor = actor.is_staff and not actor.is_admin
    entries = [
        CatalogEntry(course, enrollment, request, course_role=role if instructor else None)
        for course, enrollment, request, role in await session.execute(query)
    ]
    return await _with_seats(session, actor, entries)


async def _with_seats(
    session: AsyncSession, actor: Actor, entries: list[CatalogEntry]
) -> list[CatalogEntry]:
    """The entries of courses with a seat limit, with their seats taken and the caller's place
    in their waitlists."""
    limited = [entry.course.id for entry in entries if entry.course.seat_limit is not None]
    if not limited:
        return entries
    taken = await seats.seats_taken(session, limited)
    places = await seats.waitlist_positions(session, actor.id, limited)
    return [
        replace(
            entry,
            seats_taken=taken.get(entry.course.id, 0),
            waitlist_position=places.get(entry.course.id),
        )
        if entry.course.id in limited
        else entry
        for entry in entries
    ]
