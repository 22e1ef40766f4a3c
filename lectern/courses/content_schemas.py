"""Bodies for editing a course's content after it was created."""

from typing import Annotated

from pydantic import Field

from lectern.courses.schemas import QbankQuestionIn, QuestionIn, Title
from lectern.platform.schemas import Id, Input, Output

# More parts than a course could sensibly hold; the bound keeps a body from naming millions.
MAX_PARTS = 2000


class ChapterUpdate(Input):
    title: Title | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class LessonUpdate(Input):
    """Any subset of a lesson's fields; its kind cannot change (make a new lesson)."""

    title: Title | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    required: bool | None = None
    weight: Annotated[float, Field(gt=0, le=1000)] | None = None
    duration_s: Annotated[float, Field(gt=0, le=86400)] | None = None
    video_url: Annotated[str, Field(max_length=2000)] | None = None
    body: Annotated[str, Field(max_length=200_000)] | None = None
    pass_mark: Annotated[float, Field(ge=0, le=1)] | None = None
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=200)] | None = None


class QbankQuestionsIn(Input):
    questions: Annotated[list[QbankQuestionIn], Field(min_length=1, max_length=5000)]


class QbankQuestionOut(Output):
    """A bank question as its authors see it, answer and statistics included."""

    id: int
    prompt: str
    choices: list[str]
    answer: int
    topic: str
    attempts: int
    correct: int


class LessonOrder(Input):
    """Every lesson of the chapter, once, in the new order."""

    lesson_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_PARTS)]


class ChapterOrder(Input):
    """Every chapter of the course, once, in the new order."""

    chapter_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_PARTS)]
