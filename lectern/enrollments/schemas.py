from datetime import datetime
from typing import Annotated

from pydantic import Field

from lectern.platform.schemas import Id, Input, Output


class EnrollmentOut(Output):
    id: int
    user_id: int
    course_id: int
    status: str
    source: str
    progress: float
    completed_at: datetime | None
    created_at: datetime


class MyEnrollmentOut(EnrollmentOut):
    course_title: str
    course_slug: str
    course_status: str


class AccessRequestOut(Output):
    id: int
    user_id: int
    course_id: int
    status: str
    note: str
    reviewer_id: int | None
    created_at: datetime
    reviewed_at: datetime | None
    enrollment: EnrollmentOut | None = None


class QueuedRequestOut(AccessRequestOut):
    course_title: str
    learner_name: str
    learner_email: str


class ReviewIn(Input):
    note: Annotated[str, Field(max_length=2000)] = ""


class AdminEnrollIn(Input):
    user_id: Id
    course_id: Id
