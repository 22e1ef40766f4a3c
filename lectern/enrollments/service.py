"""Commands that put learners into courses, and take them out: who may, and on what terms.
The pair's rows change through `lectern.enrollments.pair`."""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments import seats
from lectern.enrollments.batch import (
    Placement,
    cancel_each,
    chunks,
    enroll_each,
    enrollments_of,
    lock_pairs,
)
from lectern.enrollments.pair import (
    EnrollmentRow,
    EnrollResult,
    WhenFull,
    cancel_enrollment,
    current_enrollment,
    enroll,
    enrollment_payload,
    fill_freed_seats,
    lock_pair,
)
from lectern.enrollments.rules import (
    enrollment_open,
    is_enrolled,
    self_enroll_allowed,
)
from lectern.events.service import record_event
from lectern.events.types import (
    EnrollmentCancelled,
    EnrollmentEndChanged,
    WaitlistLeft,
)
from lectern.models import Course, Enrollment, Payment, User
from lectern.models.base import utcnow
from lectern.models.enums import (
    CourseAccess,
    CourseStatus,
    EnrollmentSource,
    EnrollmentStatus,
    PaymentStatus,
    Role,
)
from lectern.notifications.service import Note, notify, notify_each
from lectern.platform.actor import Actor
from lectern.platform.errors import Conflict, Forbidden, Invalid, NotFound


def require_enrollment_open(course: Course) -> None:
    """Learners join on their own only inside the course's enrollment window."""
    if not enrollment_open(course.enrollment_opens_at, course.enrollment_closes_at, utcnow()):
        raise Conflict(
            "Enrollment in this course is closed.",
            slug="enrollment-closed",
            enrollment_opens_at=_iso(course.enrollment_opens_at),
            enrollment_closes_at=_iso(course.enrollment_closes_at),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def enroll_in_default_courses(session: AsyncSession, user: User) -> list[EnrollResult]:
    courses = (
        await session.scalars(
            select(Course).where(
                Course.institution_id == user.institution_id,
                Course.access == CourseAccess.DEFAULT,
                Course.status == CourseStatus.PUBLISHED,
            )
        )
    ).all()
    # A full default course puts the new learner on its waitlist, or passes them by.
    results = []
    for course in courses:
        try:
            results.append(
                await enroll(
                    session,
                    user_id=user.id,
                    course=course,
                    source=EnrollmentSource.DEFAULT,
                    when_full=WhenFull.WAIT,
                )
            )
        except Conflict as full:
            if full.slug != "course-full":
                raise
    return results


async def change_enrollment_end(
    session: AsyncSession, actor: Actor, enrollment_id: int, ends_at: datetime | None
) -> Enrollment:
    """An admin moves an active enrollment's end, later to extend it or sooner, or takes it
    away (None: it lasts); the learner is told, and told again before the new end. The same
    end again changes nothing. An end in the past is refused, as is an enrollment that is not
    active (an expired one is given back by enrolling the learner again)."""
    _require_admin(actor)
    enrollment = await session.get(Enrollment, enrollment_id)
    course = None if enrollment is None else await session.get(Course, enrollment.course_id)
    if course is None or enrollment is None or course.institution_id != actor.institution_id:
        raise NotFound("No such enrollment.")
    if ends_at is not None and ends_at <= utcnow():
        raise Invalid("ends_at must be in the future.", slug="ends-in-the-past")
    await lock_pair(session, enrollment.user_id, course.id)
    await session.refresh(enrollment)
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise Conflict(
            f"Only an active enrollment's end can change; this one is {enrollment.status}."
            " Enroll the learner again to give them the course back.",
            slug="enrollment-not-active",
            status=enrollment.status,
        )
    previous = enrollment.ends_at
    if previous == ends_at:
        return enrollment
    enrollment.ends_at = ends_at
    enrollment.expiry_notified_at = None
    await session.flush()
    record_event(
        session,
        EnrollmentEndChanged(
            **enrollment_payload(enrollment), course_title=course.title, previous_ends_at=previous
        ),
        institution_id=course.institution_id,
        user_id=enrollment.user_id,
    )
    await notify(
        session,
        user_id=enrollment.user_id,
        institution_id=course.institution_id,
        kind=EnrollmentEndChanged.type,
        title=f"Your access to {course.title} now ends {ends_at:%Y-%m-%d %H:%M} UTC"
        if ends_at is not None
        else f"Your access to {course.title} no longer ends",
        link=f"/courses/{course.id}",
    )
    return enrollment


async def enroll_each_in_default_courses(
    session: AsyncSession, institution_id: int, user_ids: Sequence[int]
) -> None:
    """`enroll_in_default_courses` for many new learners of one institution."""
    courses = (
        await session.scalars(
            select(Course).where(
                Course.institution_id == institution_id,
                Course.access == CourseAccess.DEFAULT,
                Course.status == CourseStatus.PUBLISHED,
            )
        )
    ).all()
    for course in courses:
        if course.seat_limit is None:
            placements = [Placement(user_id, course.id) for user_id in user_ids]
            await enroll_each(
                session, placements, {course.id: course}, source=EnrollmentSource.DEFAULT
            )
            continue
        for user_id in user_ids:  # each in turn into the seats, then the line, as one would
            try:
                await enroll(
                    session,
                    user_id=user_id,
                    course=course,
                    source=EnrollmentSource.DEFAULT,
                    when_full=WhenFull.WAIT,
                )
            except Conflict as full:
                if full.slug != "course-full":
                    raise


async def visible_course(session: AsyncSession, actor: Actor, course_id: int) -> Course:
    """A course the learner may join: published, in their institution."""
    course = await session.get(Course, course_id)
    if course is None or course.institution_id != actor.institution_id:
        raise NotFound("No such course.")
    if course.status == CourseStatus.DRAFT and not actor.is_staff:
        raise NotFound("No such course.")
    if course.status == CourseStatus.ARCHIVED:
        raise Conflict("This course is archived.", slug="course-archived")
    if course.status == CourseStatus.DRAFT:
        raise Conflict("This course is not published.", slug="course-not-published")
    return course


def require_student(actor: Actor) -> None:
    if not actor.is_student:
        raise Forbidden("Only students enroll in courses.")


async def self_enroll(session: AsyncSession, actor: Actor, course_id: int) -> EnrollResult:
    """A student joins an open or default course inside its enrollment window; a full one puts
    them on its waitlist where it keeps one."""
    course = await visible_course(session, actor, course_id)
    require_student(actor)
    if not self_enroll_allowed(course.access):
        if course.access == CourseAccess.PAID:
            raise Conflict("This course is sold; buy it to enroll.", slug="payment-required")
        raise Conflict("This course needs an approved request.", slug="approval-required")
    current = await current_enrollment(session, actor.id, course.id)
    if current is None or not is_enrolled(current.status):
        require_enrollment_open(course)
    return await enroll(
        session,
        user_id=actor.id,
        course=course,
        source=EnrollmentSource.SELF,
        when_full=WhenFull.WAIT,
    )


async def leave_waitlist(session: AsyncSession, actor: Actor, course_id: int) -> None:
    """The learner gives up their place in a course's waitlist; not waiting is a no-op."""
    course = await _course_in_institution(session, actor, course_id)
    await lock_pair(session, actor.id, course.id)
    position = await seats.waitlist_position(session, actor.id, course.id)
    if position is None or not await seats.leave_waitlist(session, actor.id, course.id):
        return
    record_event(
        session,
        WaitlistLeft(
            user_id=actor.id, course_id=course.id, course_title=course.title, position=position
        ),
        institution_id=course.institution_id,
        user_id=actor.id,
    )


async def _student_in_institution(session: AsyncSession, actor: Actor, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.institution_id != actor.institution_id or user.role != Role.STUDENT:
        raise NotFound("No such student.")
    return user


async def _course_in_institution(session: AsyncSession, actor: Actor, course_id: int) -> Course:
    course = await session.get(Course, course_id)
    if course is None or course.institution_id != actor.institution_id:
        raise NotFound("No such course.")
    return course


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an admin can do this.")


async def admin_enroll(
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    course_id: int,
    *,
    ends_at: datetime | None = None,
    override_seat_limit: bool = False,
) -> EnrollResult:
    """An admin enrolls a student directly, whatever the course's access mode and enrollment
    window, until `ends_at` if given; beyond the seat limit only with `override_seat_limit`."""
    _require_admin(actor)
    if ends_at is not None and ends_at <= utcnow():
        raise Invalid("ends_at must be in the future.", slug="ends-in-the-past")
    user = await _student_in_institution(session, actor, user_id)
    course = await _course_in_institution(session, actor, course_id)
    if course.status == CourseStatus.ARCHIVED:
        raise Conflict("This course is archived.", slug="course-archived")
    result = await enroll(
        session,
        user_id=user.id,
        course=course,
        source=EnrollmentSource.ADMIN,
        reviewer_id=actor.id,
        when_full=WhenFull.OVERRIDE if override_seat_limit else WhenFull.REFUSE,
        ends_at=ends_at,
    )
    if result.changed:
        await notify(
            session,
            user_id=user.id,
            institution_id=course.institution_id,
            kind="enrollment.created",
            title=f"You were enrolled in {course.title}",
            link=f"/courses/{course.id}",
        )
    return result


UNENROLLED = "Unenrolled by an admin."


async def admin_unenroll(session: AsyncSession, actor: Actor, enrollment_id: int) -> Enrollment:
    """Cancel an enrollment, keeping its facts for a later re-enrollment; again is a no-op."""
    _require_admin(actor)
    enrollment = await session.get(Enrollment, enrollment_id)
    course = None if enrollment is None else await session.get(Course, enrollment.course_id)
    # Another institution's enrollment answers as an unknown one.
    if course is None or enrollment is None or course.institution_id != actor.institution_id:
        raise NotFound("No such enrollment.")
    await lock_pair(session, enrollment.user_id, course.id)
    await session.refresh(enrollment)
    if enrollment.status == EnrollmentStatus.CANCELLED:
        return enrollment
    paid = await session.scalar(
        select(Payment.id).where(
            Payment.user_id == enrollment.user_id,
            Payment.course_id == course.id,
            Payment.status == PaymentStatus.COMPLETED,
        )
    )
    if paid is not None:
        # A paid, unrefunded enrollment stays: the refund is what ends it, and keeps the books.
        raise Conflict(
            f"This learner paid for the course; refund payment {paid} to unenroll them.",
            slug="paid-enrollment",
            payment_id=paid,
        )
    return await cancel_enrollment(session, enrollment, course, reason=UNENROLLED)


async def _courses_of_institution(
    session: AsyncSession, actor: Actor, course_ids: Collection[int]
) -> dict[int, Course]:
    found = {
        course.id: course
        for course in await session.scalars(
            select(Course).where(
                Course.id.in_(sorted(course_ids)), Course.institution_id == actor.institution_id
            )
        )
    }
    if len(found) != len(set(course_ids)):
        raise NotFound("No such course.")
    return found


async def admin_enroll_each(
    session: AsyncSession, actor: Actor, placements: Sequence[Placement]
) -> list[EnrollmentRow]:
    """`admin_enroll` for many pairs (each once) of the actor's institution, all or none: an
    unknown student or course, an archived course, or a course without the seats for its
    placements refuses them all. The enrollments it created or reactivated."""
    _require_admin(actor)
    now = utcnow()
    if any(p.ends_at is not None and p.ends_at <= now for p in placements):
        raise Invalid("ends_at must be in the future.", slug="ends-in-the-past")
    courses = await _courses_of_institution(session, actor, {p.course_id for p in placements})
    if any(course.status == CourseStatus.ARCHIVED for course in courses.values()):
        raise Conflict("This course is archived.", slug="course-archived")
    user_ids = sorted({p.user_id for p in placements})
    students = 0
    for batch in chunks(user_ids, 5000):
        students += len(
            (
                await session.scalars(
                    select(User.id).where(
                        User.id.in_(batch),
                        User.institution_id == actor.institution_id,
                        User.role == Role.STUDENT,
                    )
                )
            ).all()
        )
    if students != len(user_ids):
        raise NotFound("No such student.")
    written = await enroll_each(
        session, placements, courses, source=EnrollmentSource.ADMIN, reviewer_id=actor.id
    )
    notes = [
        Note(
            row.user_id,
            "enrollment.created",
            f"You were enrolled in {courses[row.course_id].title}",
            link=f"/courses/{row.course_id}",
        )
        for row in written
    ]
    await notify_each(session, institution_id=actor.institution_id, notes=notes)
    return written


async def admin_unenroll_each(
    session: AsyncSession,
    actor: Actor,
    enrollment_ids: Collection[int],
    *,
    give_freed_seats: bool = True,
) -> list[EnrollmentRow]:
    """`admin_unenroll` for many enrollments of the actor's institution, all or none (an
    unknown or paid one refuses them all); the active or completed ones it cancelled. Without
    `give_freed_seats` the caller gives the freed seats to the waitlists (`fill_freed_seats`)
    once it has used those it wants."""
    _require_admin(actor)
    pairs: dict[int, tuple[int, int]] = {}
    for batch in chunks(sorted(enrollment_ids), 5000):
        for row in await session.execute(
            select(Enrollment.id, Enrollment.user_id, Enrollment.course_id)
            .join(Course, Course.id == Enrollment.course_id)
            .where(Enrollment.id.in_(batch), Course.institution_id == actor.institution_id)
        ):
            pairs[row.id] = (row.user_id, row.course_id)
    if len(pairs) != len(set(enrollment_ids)):
        raise NotFound("No such enrollment.")
    await lock_pairs(session, pairs.values())
    standing = await enrollments_of(session, list(pairs.values()))
    enrolled = [pair for pair, row in standing.items() if is_enrolled(row.status)]
    for pairs_batch in chunks(enrolled, 2000):
        paid = await session.scalar(
            select(Payment.id)
            .where(
                tuple_(Payment.user_id, Payment.course_id).in_(pairs_batch),
                Payment.status == PaymentStatus.COMPLETED,
            )
            .limit(1)
        )
        if paid is not None:
            raise Conflict(
                f"A learner paid for the course; refund payment {paid} to unenroll them.",
                slug="paid-enrollment",
                payment_id=paid,
            )
    courses = await _courses_of_institution(session, actor, {c for _, c in pairs.values()})
    cancelled = await cancel_each(session, pairs.keys(), courses, reason=UNENROLLED)
    notes = [
        Note(
            row.user_id,
            EnrollmentCancelled.type,
            f"Your enrollment in {courses[row.course_id].title} was cancelled",
            body=UNENROLLED,
            link="/catalog",
        )
        for row in cancelled
    ]
    await notify_each(session, institution_id=actor.institution_id, notes=notes)
    if give_freed_seats:
        for course_id in sorted({row.course_id for row in cancelled}):
            await fill_freed_seats(session, courses[course_id])
    return cancelled
