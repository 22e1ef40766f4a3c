from datetime import datetime
from typing import Annotated

from pydantic import Field

from lectern.models.enums import CourseRole
from lectern.platform.schemas import Id, Input, Output


class StaffIn(Input):
    user_id: Id
    role: Annotated[CourseRole, Field(strict=False)]


class StaffOut(Output):
    course_id: int
    user_id: int
    role: str
    full_name: str
    email: str
    created_at: datetime
