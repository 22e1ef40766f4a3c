"""Demo data that makes every page meaningful on first start."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.security import hash_password
from lectern.accounts.service import create_staff, register_student
from lectern.courses.schemas import ChapterIn, CourseCreate, LessonIn
from lectern.courses.service import create_course
from lectern.demo.course import create_demo_course
from lectern.enrollments.requests import approve_request, request_access
from lectern.enrollments.service import admin_enroll, self_enroll
from lectern.institutions.service import get_or_create_institution
from lectern.learning.service import record_activity, submit_quiz
from lectern.models import Course, User
from lectern.models.enums import CourseAccess, CourseRole, CourseStatus, LessonKind, Role
from lectern.platform.actor import Actor
from lectern.qbank.service import answer_question, finish_test, start_test
from lectern.staff.service import assign_staff

DEMO_PASSWORD = "lectern-demo"  # noqa: S105 - printed on first start by design
INSTITUTION = "Northwind Academy"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def _reading(title: str, body: str) -> LessonIn:
    return LessonIn(title=title, kind=LessonKind.READING, body=body)


async def _learners_at_work(
    session: AsyncSession, course: Course, finisher: Actor, practising: Actor
) -> None:
    """One learner finishes the course (certificate included) and another practises with its
    Q-bank, so that progress, certificates and course analytics have something to show."""
    lessons = [lesson for chapter in course.chapters for lesson in chapter.lessons]
    for learner in (finisher, practising):
        await self_enroll(session, learner, course.id)
    watched = [
        {"type": "video.watched", "lesson_id": lesson.id, "from_s": 0.0, "to_s": lesson.duration_s}
        for lesson in lessons
        if lesson.kind == LessonKind.VIDEO
    ]
    read = [
        {"type": "lesson.completed", "lesson_id": lesson.id}
        for lesson in lessons
        if lesson.kind == LessonKind.READING
    ]
    await record_activity(session, finisher, [*watched, *read])
    for quiz in (lesson for lesson in lessons if lesson.kind == LessonKind.QUIZ):
        await submit_quiz(session, finisher, quiz.id, [q["answer"] for q in quiz.questions])
    for learner, right in ((finisher, 5), (practising, 3)):
        test = await start_test(session, learner, course.id, 5)
        for position, drawn in enumerate(test.questions):
            question = drawn.question
            wrong = (question.answer + 1) % len(question.choices)
            choice = question.answer if position < right else wrong
            await answer_question(session, learner, test.test.id, question.id, choice)
        await finish_test(session, learner, test.test.id)


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(User))


async def load_demo(session: AsyncSession) -> list[DemoLogin]:
    """Create the demo institution, its people and courses; returns the logins to print."""
    password_hash = hash_password(DEMO_PASSWORD)
    institution = await get_or_create_institution(session, INSTITUTION)
    admin, _ = await create_staff(
        session,
        institution_name=INSTITUTION,
        email="admin@northwind.test",
        password_hash=password_hash,
        full_name="Ada Admin",
    )
    instructor, _ = await create_staff(
        session,
        institution_name=INSTITUTION,
        email="instructor@northwind.test",
        password_hash=password_hash,
        full_name="Ian Instructor",
        role=Role.INSTRUCTOR,
    )
    await session.flush()
    staff = Actor.of(admin)
    await create_course(
        session,
        staff,
        CourseCreate(
            title="Orientation",
            status=CourseStatus.PUBLISHED,
            access=CourseAccess.DEFAULT,
            description="How Northwind Academy works. Every student starts here.",
            chapters=[
                ChapterIn(
                    title="Welcome",
                    lessons=[_reading("Welcome to Northwind", "# Welcome\n\nStart here.")],
                )
            ],
        ),
    )
    open_course = await create_course(
        session,
        staff,
        CourseCreate(
            title="Study Skills",
            status=CourseStatus.PUBLISHED,
            access=CourseAccess.OPEN,
            description="Open to everyone: plan, practise, remember.",
            chapters=[
                ChapterIn(
                    title="Planning",
                    lessons=[_reading("Weekly planning", "Plan a week in *twenty* minutes.")],
                )
            ],
        ),
    )
    approval_course = await create_course(
        session,
        staff,
        CourseCreate(
            title="Clinical Reasoning",
            status=CourseStatus.PUBLISHED,
            access=CourseAccess.APPROVAL,
            description="Admission by request: an admin reviews each one.",
            chapters=[
                ChapterIn(
                    title="Foundations",
                    lessons=[_reading("Thinking in differentials", "From symptom to hypothesis.")],
                )
            ],
        ),
    )
    await create_course(
        session,
        staff,
        CourseCreate(
            title="Board Review Intensive",
            status=CourseStatus.PUBLISHED,
            access=CourseAccess.PAID,
            price_cents=4900,
            currency="usd",
            description="Six weeks of exam practice.",
            chapters=[
                ChapterIn(
                    title="Week one",
                    lessons=[_reading("How to use this course", "One block of questions a day.")],
                )
            ],
        ),
    )
    await create_course(
        session,
        staff,
        CourseCreate(title="Pharmacology (in preparation)", status=CourseStatus.DRAFT),
    )
    first_aid = await create_demo_course(session, staff)
    for taught in (first_aid, approval_course):
        await assign_staff(session, staff, taught.id, instructor.id, CourseRole.INSTRUCTOR)
    students = []
    for email, name in (
        ("student@northwind.test", "Sam Student"),
        ("maya@northwind.test", "Maya Patel"),
        ("leo@northwind.test", "Leo Okafor"),
    ):
        students.append(
            await register_student(
                session,
                institution_slug=institution.slug,
                email=email,
                password_hash=password_hash,
                full_name=name,
            )
        )
    sam, maya, leo = (Actor.of(s) for s in students)
    await self_enroll(session, sam, open_course.id)
    await self_enroll(session, sam, first_aid.id)
    reading = first_aid.chapters[0].lessons[1]
    await record_activity(session, sam, [{"type": "lesson.completed", "lesson_id": reading.id}])
    pending = await request_access(session, maya, approval_course.id)
    assert pending.request is not None  # an approval course has no seat limit to wait for
    await request_access(session, sam, approval_course.id)
    await approve_request(session, staff, pending.request.id, "Welcome aboard.")
    await admin_enroll(session, staff, leo.id, open_course.id)
    await _learners_at_work(session, first_aid, maya, leo)
    return [
        DemoLogin("admin", "admin@northwind.test", DEMO_PASSWORD),
        DemoLogin("instructor", "instructor@northwind.test", DEMO_PASSWORD),
        DemoLogin("student", "student@northwind.test", DEMO_PASSWORD),
    ]
