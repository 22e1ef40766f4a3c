"""The generated institutions, their admins and their courses with content and Q-banks."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lectern.events.types import CourseCreated, DomainEvent
from lectern.generate.learners import QUIZ_CHOICES, CourseShape, LessonShape, QuestionShape
from lectern.models.enums import CourseAccess, CourseStatus, LessonKind, Role

Row = dict[str, Any]
# Published courses of each access per institution, and one draft nobody is enrolled in.
COURSES = (
    (CourseAccess.DEFAULT, 2),
    (CourseAccess.OPEN, 3),
    (CourseAccess.APPROVAL, 4),
    (CourseAccess.PAID, 3),
)
QUESTIONS_PER_COURSE = 20
TOPICS = ("anatomy", "physiology", "pharmacology", "ethics")
PASS_MARK = 0.6
# (chapter, kind, title, required, weight, duration_s)
LESSONS = (
    (0, LessonKind.VIDEO, "Welcome", True, 2.0, 600.0),
    (0, LessonKind.READING, "The basics", True, 1.0, 0.0),
    (0, LessonKind.QUIZ, "Check the basics", True, 1.0, 0.0),
    (1, LessonKind.VIDEO, "In depth", True, 2.0, 900.0),
    (1, LessonKind.READING, "Cases", True, 1.0, 0.0),
    (1, LessonKind.QBANK, "Practice questions", True, 1.0, 0.0),
    (1, LessonKind.READING, "Further reading", False, 1.0, 0.0),
)
QUIZ_ANSWERS = (1, 3, 0)


class Ids:
    """The next free id of each table; the writer reserves them from the database first."""

    def __init__(self, first: dict[str, int]) -> None:
        self.next = dict(first)
        self.used: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        self.used[table] = value
        return value


@dataclass
class Batch:
    """Rows to write, by table, and the events that say what happened."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, row: Row) -> None:
        self.rows[table].append(row)

    def event(
        self, event: DomainEvent, institution_id: int, user_id: int | None, at: datetime
    ) -> None:
        self.rows["events"].append(
            {
                "type": event.type,
                "institution_id": institution_id,
                "user_id": user_id,
                "audience": event.audience_for(user_id),
                "payload": event.payload(),
                "created_at": at,
            }
        )


@dataclass
class InstitutionShape:
    id: int
    slug: str
    admin_id: int
    default: list[CourseShape]
    others: list[CourseShape]


def _course(
    ids: Ids,
    batch: Batch,
    institution_id: int,
    access: str,
    number: int,
    at: datetime,
    status: str = CourseStatus.PUBLISHED,
) -> CourseShape:
    course_id = ids("courses")
    title = f"{access.capitalize()} course {number} ({course_id})"
    price = 4_900 + 100 * number if access == CourseAccess.PAID else 0
    batch.add(
        "courses",
        {"id": course_id, "institution_id": institution_id, "title": title,
         "slug": f"course-{course_id}", "description": f"A generated {access} course.",
         "status": status, "access": access, "price_cents": price,
         "currency": "usd", "qbank_required": number % 3 == 0, "qbank_pass_mark": PASS_MARK,
         "created_at": at, "updated_at": at},
    )  # fmt: skip
    chapters = [ids("chapters"), ids("chapters")]
    for position, chapter_id in enumerate(chapters):
        batch.add(
            "chapters",
            {"id": chapter_id, "course_id": course_id, "title": f"Part {position + 1}",
             "position": position},
        )  # fmt: skip
    lessons = []
    for position, (chapter, kind, lesson_title, required, weight, duration) in enumerate(LESSONS):
        lesson = LessonShape(
            ids("lessons"), kind, required, weight, duration, PASS_MARK,
            QUIZ_ANSWERS if kind == LessonKind.QUIZ else (),
        )  # fmt: skip
        lessons.append(lesson)
        questions = [
            {"prompt": f"Question {n + 1}?", "choices": [f"choice {c}" for c in "abcd"],
             "answer": answer}
            for n, answer in enumerate(lesson.answers)
        ]  # fmt: skip
        batch.add(
            "lessons",
            {"id": lesson.id, "chapter_id": chapters[chapter], "course_id": course_id,
             "title": lesson_title, "kind": kind, "position": position, "required": required,
             "weight": weight, "duration_s": duration,
             "video_url": f"https://videos.example/{lesson.id}.mp4" if duration else "",
             "body": "Read this through." if kind == LessonKind.READING else "",
             "pass_mark": PASS_MARK, "questions": questions},
        )  # fmt: skip
    bank = []
    for n in range(QUESTIONS_PER_COURSE):
        question = QuestionShape(ids("qbank_questions"), n % QUIZ_CHOICES, QUIZ_CHOICES)
        bank.append(question)
        batch.add(
            "qbank_questions",
            {"id": question.id, "course_id": course_id, "prompt": f"Bank question {n + 1}?",
             "choices": [f"option {c}" for c in "abcd"], "answer": question.answer,
             "topic": TOPICS[n % len(TOPICS)], "attempts": 0, "correct": 0},
        )  # fmt: skip
    batch.event(
        CourseCreated(
            id=course_id, title=title, status=status, access=access,
            price_cents=price, currency="usd",
        ),
        institution_id, None, at,
    )  # fmt: skip
    return CourseShape(
        course_id, institution_id, title, access, price, number % 3 == 0, PASS_MARK,
        tuple(lessons), tuple(bank),
    )  # fmt: skip


def institution(ids: Ids, batch: Batch, password_hash: str, at: datetime) -> InstitutionShape:
    """An institution, its admin, its published courses and one draft."""
    institution_id = ids("institutions")
    name = f"Scale Academy {institution_id}"
    slug = f"scale-academy-{institution_id}"
    batch.add(
        "institutions",
        {"id": institution_id, "name": name, "name_key": name.casefold(), "slug": slug,
         "created_at": at},
    )  # fmt: skip
    admin_id = ids("users")
    email = f"admin@{slug}.test"
    batch.add(
        "users",
        {"id": admin_id, "institution_id": institution_id, "email": email, "email_key": email,
         "password_hash": password_hash, "full_name": f"Admin of {name}", "role": Role.ADMIN,
         "is_platform_admin": False, "created_at": at},
    )  # fmt: skip
    shapes: dict[str, list[CourseShape]] = defaultdict(list)
    number = 0
    for access, count in COURSES:
        for _ in range(count):
            number += 1
            shapes[access].append(_course(ids, batch, institution_id, access, number, at))
    _course(ids, batch, institution_id, CourseAccess.OPEN, number + 1, at, CourseStatus.DRAFT)
    others = [c for access, _ in COURSES[1:] for c in shapes[access]]
    return InstitutionShape(institution_id, slug, admin_id, shapes[CourseAccess.DEFAULT], others)
