"""Small hand-written legacy data sets, each showing one drift, and loading them into a database."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lectern.importing.legacy_rows import ROWS, TABLES

T0 = datetime(2025, 9, 1, tzinfo=UTC)
# bcrypt of 'legacy-pass', as the legacy platform stored it.
LEGACY_HASH = "$2b$10$Pd6wJVoEYUGEy4yKwhWmNOcyVLRRLIl/rETQy8kzHsd3ltzLPFEDC"
LEGACY_PASSWORD = "legacy-pass"


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


@dataclass
class LegacyCourse:
    id: str
    video: str
    reading: str
    quiz: str
    answers: tuple[int, ...]


class LegacyData:
    """The legacy tables as the reader returns them, built row by row."""

    def __init__(self) -> None:
        self.tables: dict[str, list[Any]] = {t: [] for t in TABLES}

    def add(self, table: str, **row: Any) -> str:
        row.setdefault("id", str(uuid.uuid4()))
        made = ROWS[table](*(row.get(column) for column in TABLES[table]))
        self.tables[table].append(made)
        return str(made[0])

    def institution(self, name: str = "ABC Academy", days: float = 0) -> str:
        return self.add("institutions", name=name, created_at=at(days))

    def user(
        self,
        email: str,
        institution: str | None,
        *,
        role: str = "student",
        password_hash: str | None = None,
        days: float = 1,
        profile: bool = True,
        name: str = "Ann Example",
    ) -> str:
        user = self.add("users", email=email, password_hash=password_hash, name=name, role=role,
                        institution_id=institution, status="active",
                        created_at=at(days))  # fmt: skip
        if profile:
            self.add("students", id=user, user_id=user, name=name, email=email.lower(), bio="",
                     created_at=at(days))  # fmt: skip
        return user

    def course(
        self,
        institution: str,
        *,
        status: str = "published",
        price: float = 0,
        requires_approval: bool = False,
        default: bool = False,
        duration: int | None = 600,
        title: str = "Course",
    ) -> LegacyCourse:
        course = self.add("courses", institution_id=institution, title=title, description="",
                          status=status, price=price, currency="usd",
                          requires_approval=requires_approval, is_default_unlocked=default,
                          created_at=at(1))  # fmt: skip
        video = self.add("chapters", course_id=course, title="Video", position=1, kind="Video",
                         video_url="https://videos.example/v.mp4",
                         duration_seconds=duration)  # fmt: skip
        reading = self.add("chapters", course_id=course, title="Read", position=2, kind="reading",
                           content="# Notes")  # fmt: skip
        quiz = self.add("chapters", course_id=course, title="Quiz", position=3, kind="QUIZ",
                        pass_mark=70)  # fmt: skip
        answers = (0, 1, 2)
        for n, answer in enumerate(answers):
            self.add("quiz_questions", chapter_id=quiz, position=n + 1, prompt=f"Q{n}?",
                     options=["a", "b", "c"], correct_index=answer)  # fmt: skip
        return LegacyCourse(course, video, reading, quiz, answers)

    def enrollment(self, user: str, course: LegacyCourse, status: str = "active", **kw: Any) -> str:
        enrolled_at = at(kw.pop("days", 10))
        return self.add("enrollments", user_id=user, course_id=course.id, status=status,
                        enrolled_at=enrolled_at, **kw)  # fmt: skip

    def student_progress(self, student: str, course: LegacyCourse, **kw: Any) -> str:
        kw.setdefault("completed_chapters", [])
        kw.setdefault("watched_videos", [])
        return self.add("student_progress", student_id=student, course_id=course.id,
                        created_at=at(kw.pop("days", 10)), **kw)  # fmt: skip

    def request(self, student: str, course: LegacyCourse, status: str, days: float = 9) -> str:
        return self.add("access_requests", student_id=student, course_id=course.id, status=status,
                        created_at=at(days))  # fmt: skip

    def payment(
        self, user: str, course: LegacyCourse, status: str, session: str, amount: float = 49.0
    ) -> str:
        return self.add("payments", user_id=user, course_id=course.id, amount=amount,
                        currency="usd", status=status, stripe_session_id=session,
                        stripe_payment_intent=f"pi_{session}", created_at=at(9))  # fmt: skip

    def watched(self, user: str, course: LegacyCourse, seconds: float, completed: bool) -> str:
        return self.add("video_progress", user_id=user, chapter_id=course.video,
                        watched_seconds=seconds, completed=completed,
                        updated_at=at(21))  # fmt: skip

    def quiz_attempt(
        self, user: str, course: LegacyCourse, answers: list[int], score: float, passed: bool
    ) -> str:
        return self.add("quiz_attempts", user_id=user, chapter_id=course.quiz, answers=answers,
                        score=score, passed=passed, created_at=at(22))  # fmt: skip

    def complete_everything(self, user: str, course: LegacyCourse) -> None:
        """Facts that meet every criterion: 90 % of the video, the reading, a passed quiz."""
        self.watched(user, course, 560, True)
        self.student_progress(user, course, completed_chapters=[course.reading])
        self.quiz_attempt(user, course, list(course.answers), 100, True)


def _sql_value(value: Any) -> str:
    import json

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_statements(tables: dict[str, list[Any]]) -> list[str]:
    """INSERTs of the rows in the legacy schema's own columns."""
    statements = []
    for table, rows in tables.items():
        for row in rows:
            given = {c: v for c, v in row._asdict().items() if v is not None}
            columns = list(given)
            values = ", ".join(_sql_value(v) for v in given.values())
            names = ", ".join(columns)
            statements.append(f"INSERT INTO {table} ({names}) VALUES ({values})")  # noqa: S608
    return statements
