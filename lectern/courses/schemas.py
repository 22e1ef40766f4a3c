from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, field_validator, model_validator

from lectern.courses.rules import parse_access, parse_status
from lectern.enrollments.schemas import Moment
from lectern.models.enums import CourseAccess, CourseStatus, LessonKind
from lectern.platform.schemas import Input, Output

Status = Annotated[CourseStatus, BeforeValidator(parse_status)]
Access = Annotated[CourseAccess, BeforeValidator(parse_access)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
MAX_CHOICES = 12
# A question's choice, named by its index among the choices.
ChoiceIndex = Annotated[int, Field(ge=0, le=MAX_CHOICES - 1)]


class QuestionIn(Input):
    prompt: Annotated[str, Field(min_length=1, max_length=4000)]
    choices: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=1000)]],
        Field(min_length=2, max_length=MAX_CHOICES),
    ]
    answer: ChoiceIndex

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> Self:
        if self.answer >= len(self.choices):
            raise ValueError("answer must be the index of one of the choices")
        return self


class QbankQuestionIn(QuestionIn):
    topic: Annotated[str, Field(max_length=200)] = ""


class LessonIn(Input):
    title: Title
    # Not strict: JSON carries the kind as a string, which strict mode refuses for an enum.
    kind: Annotated[LessonKind, Field(strict=False)]
    required: bool = True
    weight: Annotated[float, Field(gt=0, le=1000)] = 1.0
    duration_s: Annotated[float, Field(ge=0, le=86400)] = 0.0
    video_url: Annotated[str, Field(max_length=2000)] = ""
    body: Annotated[str, Field(max_length=200_000)] = ""
    pass_mark: Annotated[float, Field(ge=0, le=1)] = 0.7
    questions: Annotated[list[QuestionIn], Field(max_length=200)] = []

    @model_validator(mode="after")
    def _complete_for_its_kind(self) -> Self:
        if self.kind == LessonKind.VIDEO and self.duration_s <= 0:
            raise ValueError("a video lesson needs duration_s > 0")
        if self.kind == LessonKind.QUIZ and not self.questions:
            raise ValueError("a quiz lesson needs questions")
        return self


class ChapterIn(Input):
    title: Title
    lessons: Annotated[list[LessonIn], Field(max_length=500)] = []


# Bounds no real course reaches, well inside the columns' integers.
SeatLimit = Annotated[int, Field(ge=0, le=1_000_000)]
AccessDays = Annotated[int, Field(ge=1, le=36_500)]


class EnrollmentTerms(Input):
    """Who may join a course on their own, when, for how long, and how many."""

    enrollment_opens_at: Moment | None = None
    enrollment_closes_at: Moment | None = None
    access_days: AccessDays | None = None
    seat_limit: SeatLimit | None = None

    @model_validator(mode="after")
    def _opens_before_it_closes(self) -> Self:
        opens, closes = self.enrollment_opens_at, self.enrollment_closes_at
        if opens is not None and closes is not None and opens >= closes:
            raise ValueError("enrollment_opens_at must come before enrollment_closes_at")
        return self


class CourseCreate(EnrollmentTerms):
    title: Title
    status: Status = CourseStatus.DRAFT
    access: Access = CourseAccess.APPROVAL
    description: Annotated[str, Field(max_length=20_000)] = ""
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)] = 0
    currency: Currency = "usd"
    qbank_required: bool = False
    qbank_pass_mark: Annotated[float, Field(ge=0, le=1)] = 0.7
    waitlist: bool = False
    chapters: Annotated[list[ChapterIn], Field(max_length=200)] = []
    qbank: Annotated[list[QbankQuestionIn], Field(max_length=5000)] = []

    @field_validator("currency")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @model_validator(mode="after")
    def _priced_when_paid(self) -> Self:
        if self.access == CourseAccess.PAID and self.price_cents <= 0:
            raise ValueError("a paid course needs price_cents > 0")
        return self


class CourseUpdate(EnrollmentTerms):
    """The fields to change; null clears the enrollment terms (no window, limit or end)."""

    title: Title | None = None
    status: Status | None = None
    access: Access | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    currency: Currency | None = None
    qbank_required: bool | None = None
    qbank_pass_mark: Annotated[float, Field(ge=0, le=1)] | None = None
    waitlist: bool | None = None

    @field_validator("currency")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value


class QuestionOut(Output):
    prompt: str
    choices: list[str]
    answer: int | None = None


class LessonOut(Output):
    id: int
    title: str
    kind: str
    position: int
    required: bool
    weight: float
    duration_s: float | None = None
    video_url: str | None = None
    body: str | None = None
    body_html: str | None = None
    pass_mark: float | None = None
    questions: list[QuestionOut] | None = None


class ChapterOut(Output):
    id: int
    title: str
    position: int
    lessons: list[LessonOut]


class TeacherOut(Output):
    full_name: str
    role: str


class CourseOut(Output):
    id: int
    title: str
    slug: str
    description: str
    status: str
    access: str
    price_cents: int
    currency: str
    institution_id: int
    qbank_required: bool
    qbank_pass_mark: float
    image_url: str | None = None
    enrollment_opens_at: datetime | None = None
    enrollment_closes_at: datetime | None = None
    access_days: int | None = None
    seat_limit: int | None = None
    waitlist: bool = False
    # Free seats (null: no limit, or not counted for this answer) and the caller's place in line.
    seats_left: int | None = None
    waitlist_position: int | None = None
    created_at: datetime
    chapters: list[ChapterOut] = []
    # False: the caller sees the outline only (no reading body, video URL or quiz question)
    # until enrolled; see courses.rules.may_see_content.
    content_access: bool
    enrollment_status: str | None = None
    request_status: str | None = None
    enrollment: dict[str, Any] | None = None
    # Its instructors and teaching assistants; filled on the course's own page only.
    staff: list[TeacherOut] = []
