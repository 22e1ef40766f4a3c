"""The import planned as rows to write: institutions, people, courses and their content.

`plan_import` is pure: it takes the legacy rows and what Lectern already holds, decides every
conflict by the rules in `rules`, and returns the rows to insert with the report. Rows refer to
each other by `Ref`: an int is a Lectern row that exists, a str the key of a row in this plan.
People are planned in `people`, the learning half (enrollments, requests, payments, facts)
in `learning_plan`; `planning.plan_import` runs them in order.
"""

import gc
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lectern.importing import legacy_rows, rules
from lectern.importing.report import Report, Tally
from lectern.institutions.rules import free_slug, normalize_name, slugify
from lectern.models.enums import CourseAccess, CourseStatus, LessonKind

Ref = int | str
Row = dict[str, Any]  # a row the plan writes, by column
Legacy = dict[str, list[Any]]  # each legacy table's rows (legacy_rows)
# Orders rows whose timestamps are missing first.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class KnownUser:
    id: int
    institution_id: int
    full_name: str


@dataclass
class Known:
    """What the target database already holds that the import must recognise."""

    # Per legacy table, the legacy rows earlier imports took in: their Lectern ids.
    legacy_ids: dict[str, dict[str, int]] = field(default_factory=dict)
    institutions: dict[str, int] = field(default_factory=dict)  # name_key → id
    institution_slugs: set[str] = field(default_factory=set)
    institution_names: dict[int, str] = field(default_factory=dict)
    users: dict[str, KnownUser] = field(default_factory=dict)  # email_key → user
    user_names: dict[int, str] = field(default_factory=dict)
    course_slugs: dict[int, set[str]] = field(default_factory=dict)
    enrollments: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)
    payments: dict[str, int] = field(default_factory=dict)  # checkout id → payment id

    def linked(self, table: str) -> dict[str, int]:
        """The legacy rows of `table` earlier imports took in, by legacy id: their Lectern ids."""
        return self.legacy_ids.get(table, {})


@dataclass(frozen=True)
class CourseInfo:
    ref: Ref
    institution: Ref
    title: str
    status: str
    access: str
    price_cents: int
    currency: str


@dataclass(frozen=True)
class LessonInfo:
    ref: Ref
    course: Ref
    kind: LessonKind
    duration_s: float
    required: bool
    pass_mark: float
    answers: tuple[int, ...]


@dataclass(frozen=True)
class QuestionInfo:
    ref: Ref
    course: Ref
    answer: int
    choices: int


# Each legacy table, and the Lectern table whose rows its rows become.
LINKED = {
    "institutions": "institutions", "users": "users", "students": "users", "courses": "courses",
    "chapters": "lessons", "quiz_questions": "lessons", "qbank_questions": "qbank_questions",
    "enrollments": "enrollments", "student_progress": "enrollments",
    "video_progress": "enrollments", "quiz_attempts": "quiz_attempts",
    "qbank_tests": "qbank_tests", "qbank_question_attempts": "qbank_tests",
    "payments": "payments", "access_requests": "access_requests",
}  # fmt: skip


@dataclass(slots=True)
class Links:
    """What a legacy table's rows became: their ids and, in step, the refs of the rows of its
    LINKED table they were taken into."""

    legacy_ids: list[str] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)

    def add(self, legacy_id: str, ref: Ref) -> None:
        self.legacy_ids.append(legacy_id)
        self.refs.append(ref)


@dataclass
class Plan:
    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    # What each legacy row became, by legacy table.
    links: dict[str, Links] = field(default_factory=lambda: defaultdict(Links))
    # The keys of a table's rows, planned before the rows are: their ids can be drawn early.
    keys: dict[str, list[str]] = field(default_factory=dict)
    # lesson_progress rows of enrollments Lectern already had: added where it holds none.
    facts_of_known: list[Row] = field(default_factory=list)
    # Existing enrollments that get new facts: Lectern's own recompute runs on them.
    recompute: set[int] = field(default_factory=set)
    # Q-bank questions whose statistics are recomputed from the answers.
    questions: set[Ref] = field(default_factory=set)
    report: Report = field(default_factory=Report)
    # Names of the institutions Lectern already had, for the report.
    known_names: dict[int, str] = field(default_factory=dict)
    # The tables whose rows were written and taken out of the plan (`release`).
    released: set[str] = field(default_factory=set)

    def takes_in_nothing(self) -> bool:
        taken_in = (links.legacy_ids for links in self.links.values())
        rows = any(self.rows.values()) or self.released
        return not rows and not self.facts_of_known and not any(taken_in)

    def release(self, tables: Iterable[str]) -> list[list[Row]]:
        """The rows of `tables`, written already, taken out of the plan to be let go of."""
        taken = []
        for table in tables:
            if rows := self.rows.get(table):
                self.released.add(table)
                self.rows[table] = []
                taken.append(rows)
        return taken


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector off while millions of rows are built that form no cycles:
    otherwise it walks every live row again each time enough new ones have been made, which
    doubles the time of reading and planning. After, what was made meanwhile joins the oldest
    generation unvisited (freeze, then unfreeze): left in the youngest, the first collections
    after would walk every row twice more, a second per million."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def row_time(row: Any) -> datetime:
    """When a legacy row was made, by whichever timestamp its table keeps (`made_at`)."""
    return row.made_at or EPOCH


def _order(row: Any) -> tuple[datetime, str]:
    # row_time, inlined: every table is sorted by it
    return (row.made_at or EPOCH, row.id)


class Planner:
    def __init__(self, legacy: Legacy, known: Known, now: datetime) -> None:
        self.legacy, self.known, self.now = legacy, known, now
        self.plan = Plan()
        self.report = self.plan.report
        # What the people and learning stages report, a Counter increment each: handed to the
        # report when planning ends.
        self.tally = Tally()
        self.institution: dict[str, Ref] = {}  # legacy institution id → ref
        self.person: dict[str, Ref] = {}  # legacy users.id or students.id → user ref
        self.user_institution: dict[Ref, Ref] = {}
        self.user_name: dict[Ref, str] = {}
        self.new_students: list[Ref] = []
        self.orphan_users: dict[str, Ref] = {}  # e-mail key → user made from a profile
        self.profiles_taken_in: set[str] = set()  # legacy students.id of new users' profiles
        self.course: dict[str, CourseInfo] = {}
        self.course_by_ref: dict[Ref, CourseInfo] = {}
        self.lesson: dict[str, LessonInfo] = {}
        self.lessons_of: dict[Ref, list[LessonInfo]] = defaultdict(list)
        self.question: dict[str, QuestionInfo] = {}

    # Helpers

    def known_id(self, table: str, legacy_id: str) -> int | None:
        return self.known.linked(table).get(legacy_id)

    def link(self, table: str, legacy_id: str, ref: Ref) -> None:
        self.plan.links[table].add(legacy_id, ref)

    def add(self, table: str, row: Row) -> None:
        self.plan.rows[table].append(row)

    # Institutions

    def institutions(self) -> None:
        groups: dict[str, list[legacy_rows.Institution]] = defaultdict(list)
        for row in self.legacy["institutions"]:
            key = normalize_name(row.name or "")
            if not key:
                self.report.row("institutions", "skipped", "no_name")
                continue
            groups[key].append(row)
        taken = set(self.known.institution_slugs)
        for key, rows in groups.items():
            rows.sort(key=_order)
            known = [k for r in rows if (k := self.known_id("institutions", r.id)) is not None]
            ref: Ref
            if known:
                ref = known[0]
            elif key in self.known.institutions:
                ref = self.known.institutions[key]
                self.report.decide("institutions_matched_existing", ref)
            else:
                ref = rows[0].id
                name = " ".join(rows[0].name.split())
                slug = free_slug(slugify(name), taken)
                taken.add(slug)
                self.add(
                    "institutions",
                    {
                        "key": ref,
                        "name": name,
                        "name_key": key,
                        "slug": slug,
                        "created_at": rows[0].created_at,
                    },
                )
                self.report.create("institutions", ref)
            for row in rows:
                self.institution[row.id] = ref
                if self.known_id("institutions", row.id) is not None:
                    self.report.row("institutions", "skipped", "already_imported")
                    continue
                if row.id == ref:
                    self.report.row("institutions", "imported")
                else:
                    self.report.row("institutions", "merged", "same_normalized_name")
                    self.report.decide("institutions_merged", ref)
                self.link("institutions", row.id, ref)

    # Courses and their content

    def courses(self) -> None:
        slugs: dict[Ref, set[str]] = {}
        for row in sorted(self.legacy["courses"], key=_order):
            institution = self.institution.get(row.institution_id or "")
            if institution is None:
                self.report.row("courses", "skipped", "institution_missing")
                continue
            status = rules.parse_course_status(row.status) or CourseStatus.DRAFT
            price = rules.cents(row.price)
            access = rules.course_access(
                is_default_unlocked=bool(row.is_default_unlocked),
                price_cents=price,
                requires_approval=bool(row.requires_approval),
            )
            title = (row.title or "").strip()[:200] or "Untitled course"
            known = self.known_id("courses", row.id)
            ref: Ref = known if known is not None else row.id
            currency = (row.currency or "usd").strip().lower()[:3]
            info = CourseInfo(ref, institution, title, status, access, price, currency)
            self.course[row.id] = info
            self.course_by_ref[ref] = info
            if known is not None:
                self.report.row("courses", "skipped", "already_imported")
                continue
            if rules.parse_course_status(row.status) is None:
                self.report.decide("course_statuses_unknown_as_draft", institution)
            elif row.status != status.value:
                self.report.decide("course_statuses_parsed", institution)
            taken = slugs.setdefault(
                institution,
                set(self.known.course_slugs.get(institution, ()))
                if isinstance(institution, int)
                else set(),
            )
            slug = free_slug(slugify(title), taken)
            taken.add(slug)
            self.add("courses", {
                "key": ref, "institution_id": institution, "title": title, "slug": slug,
                "description": row.description or "", "status": status, "access": access,
                "price_cents": price if access == CourseAccess.PAID else 0,
                "currency": currency, "created_at": row.created_at,
                "updated_at": row.created_at,
            })  # fmt: skip
            self.report.row("courses", "imported")
            self.report.create("courses", institution)
            self.link("courses", row.id, ref)

    def lessons(self) -> None:
        questions: dict[str, list[legacy_rows.QuizQuestion]] = defaultdict(list)
        for row in self.legacy["quiz_questions"]:
            questions[row.chapter_id or ""].append(row)
        for row in sorted(self.legacy["chapters"], key=lambda r: (r.position or 0, r.id)):
            course = self.course.get(row.course_id or "")
            kind = rules.parse_lesson_kind(row.kind)
            reason = "course_missing" if course is None else None
            reason = reason or ("unknown_lesson_kind" if kind is None else None)
            if course is None or kind is None:
                self.report.row("chapters", "skipped", reason)
                for _question in questions.pop(row.id, []):
                    self.report.row("quiz_questions", "skipped", "chapter_skipped")
                continue
            duration = float(row.duration_seconds or 0)
            required = kind != LessonKind.VIDEO or duration > 0
            answers, authored = self._quiz(questions.pop(row.id, []), course, row.id)
            known = self.known_id("chapters", row.id)
            ref: Ref = known if known is not None else row.id
            mark = rules.pass_mark(row.pass_mark)
            info = LessonInfo(ref, course.ref, kind, duration, required, mark, answers)
            self.lesson[row.id] = info
            self.lessons_of[course.ref].append(info)
            if known is not None:
                self.report.row("chapters", "skipped", "already_imported")
                continue
            if not required:
                self.report.decide("videos_without_duration_not_required", course.institution)
            title = (row.title or "").strip()[:200] or "Lesson"
            position = int(row.position or 0)
            self.add(
                "chapters",
                {"key": ref, "course_id": course.ref, "title": title, "position": position},
            )
            self.add("lessons", {
                "key": ref, "chapter_id": ref, "course_id": course.ref, "title": title,
                "kind": kind, "position": 1, "required": required, "weight": 1.0,
                "duration_s": duration, "video_url": (row.video_url or "")[:2000],
                "body": row.content or "", "pass_mark": mark, "questions": authored,
            })  # fmt: skip
            self.report.row("chapters", "imported")
            self.link("chapters", row.id, ref)
        for rows in questions.values():
            for _ in rows:
                self.report.row("quiz_questions", "skipped", "chapter_missing")

    def _quiz(
        self, rows: list[legacy_rows.QuizQuestion], course: CourseInfo, chapter_id: str
    ) -> tuple[tuple[int, ...], list[Row]]:
        answers: list[int] = []
        authored: list[Row] = []
        chapter_known = self.known_id("chapters", chapter_id) is not None
        for row in sorted(rows, key=lambda r: (r.position or 0, r.id)):
            choices = row.options
            answer = row.correct_index
            if not isinstance(choices, list) or not (
                isinstance(answer, int) and 0 <= answer < len(choices)
            ):
                self.report.row("quiz_questions", "skipped", "answer_not_a_choice")
                continue
            answers.append(answer)
            authored.append(
                {"prompt": row.prompt, "choices": [str(c) for c in choices], "answer": answer}
            )
            if chapter_known:
                self.report.row("quiz_questions", "skipped", "already_imported")
            else:
                self.report.row("quiz_questions", "imported")
                self.link("quiz_questions", row.id, chapter_id)
        return tuple(answers), authored

    def qbank_questions(self) -> None:
        for row in self.legacy["qbank_questions"]:
            course = self.course.get(row.course_id or "")
            choices, answer = row.options, row.correct_index
            if course is None:
                self.report.row("qbank_questions", "skipped", "course_missing")
                continue
            if not isinstance(choices, list) or not (
                isinstance(answer, int) and 0 <= answer < len(choices)
            ):
                self.report.row("qbank_questions", "skipped", "answer_not_a_choice")
                continue
            known = self.known_id("qbank_questions", row.id)
            ref: Ref = known if known is not None else row.id
            self.question[row.id] = QuestionInfo(ref, course.ref, answer, len(choices))
            if known is not None:
                self.report.row("qbank_questions", "skipped", "already_imported")
                continue
            self.add("qbank_questions", {
                "key": ref, "course_id": course.ref, "prompt": row.prompt,
                "choices": [str(c) for c in choices], "answer": answer,
                "topic": (row.topic or "")[:200], "attempts": 0, "correct": 0,
            })  # fmt: skip
            self.plan.questions.add(ref)
            self.report.row("qbank_questions", "imported")
            self.link("qbank_questions", row.id, ref)

    # People: in lectern.importing.people

    def institutions_of_person(self, people: set[str]) -> dict[str, Counter[Ref]]:
        """The institutions of the courses each of these legacy person ids was enrolled in or
        paid for."""
        found: dict[str, Counter[Ref]] = defaultdict(Counter)
        if not people:
            return found
        for table, person in (
            ("enrollments", "user_id"),
            ("student_progress", "student_id"),
            ("payments", "user_id"),
            ("access_requests", "student_id"),
        ):
            for row in self.legacy[table]:
                if (who := getattr(row, person) or "") in people and (
                    course := self.course.get(row.course_id or "")
                ) is not None:
                    found[who][course.institution] += 1
        return found
