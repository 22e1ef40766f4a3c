from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from lectern.courses.schemas import ChoiceIndex
from lectern.platform.schemas import Id, Input, Output

MAX_BATCH = 500
Seconds = Annotated[float, Field(allow_inf_nan=False)]


class VideoWatched(Input):
    type: Literal["video.watched"]
    lesson_id: Id
    from_s: Seconds
    to_s: Seconds


class LessonCompleted(Input):
    type: Literal["lesson.completed"]
    lesson_id: Id


LearnerEvent = Annotated[VideoWatched | LessonCompleted, Field(discriminator="type")]


class ActivityIn(Input):
    # Events are validated one by one so that one bad event is rejected alone.
    events: Annotated[list[Any], Field(max_length=MAX_BATCH)]


class EventResult(Output):
    index: int
    accepted: bool
    error: str | None = None


class LessonState(Output):
    lesson_id: int
    watched_s: float
    completed: bool
    best_score: float | None = None


class EnrollmentProgress(Output):
    enrollment_id: int
    course_id: int
    status: str
    progress: float
    completed_at: datetime | None


class ActivityOut(Output):
    results: list[EventResult]
    accepted: int
    rejected: int
    lessons: list[LessonState] = []
    enrollments: list[EnrollmentProgress] = []


class QuizAttemptIn(Input):
    answers: Annotated[list[ChoiceIndex], Field(max_length=200)]


class QuizAttemptOut(Output):
    id: int
    lesson_id: int
    score: float
    passed: bool
    lesson_completed: bool
    best_score: float
    progress: float
    enrollment_status: str


class CourseProgressOut(Output):
    enrollment: EnrollmentProgress
    lessons: list[LessonState]
