from datetime import datetime
from typing import Annotated

from pydantic import Field

from lectern.schemas import Id, Input, Output


class TestStartIn(Input):
    count: Annotated[int, Field(ge=1, le=200)]
    topic: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class AnswerIn(Input):
    question_id: Id
    choice: Annotated[int, Field(ge=0)]


class TestQuestionOut(Output):
    """A drawn question as the learner sees it: never the correct answer; whether the
    learner's choice was right only once the test is finished."""

    id: int
    prompt: str
    choices: list[str]
    topic: str
    choice: int | None = None
    correct: bool | None = None


class TestOut(Output):
    id: int
    course_id: int
    status: str
    topic: str | None
    score: float | None
    created_at: datetime
    finished_at: datetime | None
    questions: list[TestQuestionOut]


class QuestionStatisticsOut(Output):
    id: int
    prompt: str
    topic: str
    attempts: int
    correct: int
    share_correct: float | None


class CourseStatisticsOut(Output):
    course_id: int
    questions: int
    attempts: int
    correct: int
    share_correct: float | None
    by_question: list[QuestionStatisticsOut]
