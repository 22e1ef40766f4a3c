"""Demo data that makes every page meaningful on first start."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.accounts.actor import Actor
from lectern.accounts.security import hash_password
from lectern.accounts.service import create_staff, register_student
from lectern.courses.schemas import ChapterIn, CourseCreate, LessonIn
from lectern.courses.service import create_course
from lectern.enrollments.service import admin_enroll, approve_request, request_access, self_enroll
from lectern.institutions.service import get_or_create_institution
from lectern.learning.demo_course import create_demo_course
from lectern.learning.service import record_activity
from lectern.models import User
from lectern.models.enums import CourseAccess, CourseStatus, LessonKind, Role

DEMO_PASSWORD = "lectern-demo"  # noqa: S105 - printed on first start by design
INSTITUTION = "Northwind Academy"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def _reading(title: str, body: str) -> LessonIn:
    return LessonIn(title=title, kind=LessonKind.READING, body=body)


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
    await create_staff(
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
        ),
    )
    await create_course(
        session,
        staff,
        CourseCreate(title="Pharmacology (in preparation)", status=CourseStatus.DRAFT),
    )
    first_aid = await create_demo_course(session, staff)
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
    await request_access(session, sam, approval_course.id)
    await approve_request(session, staff, pending.request.id, "Welcome aboard.")
    await admin_enroll(session, staff, leo.id, open_course.id)
    return [
        DemoLogin("admin", "admin@northwind.test", DEMO_PASSWORD),
        DemoLogin("instructor", "instructor@northwind.test", DEMO_PASSWORD),
        DemoLogin("student", "student@northwind.test", DEMO_PASSWORD),
    ]
