from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from lectern.courses.schemas import ChoiceIndex
from lectern.platform.schemas import Id, Input, Output


class TestStartIn(Input):
    count: Annotated[int, Field(ge=1, le=200)]
    topic: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class AnswerIn(Input):
    question_id: Id
    choice: ChoiceIndex


class TestQuestionOut(Output):
    """A drawn question as the learner sees it: whether the learner's choice was right, and the
    correct answer, only once the test is finished; before that `answer` is not even present."""

    id: int
    prompt: str
    choices: list[str]
    topic: str
    choice: int | None = None
    correct: bool | None = None
    answer: int | None = None

    @model_serializer(mode="wrap")
    def _no_answer_before_the_end(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        fields: dict[str, Any] = handler(self)
        if self.answer is None:
            fields.pop("answer", None)
        return fields


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
