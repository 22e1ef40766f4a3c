from datetime import datetime

from pydantic import Field

from lectern.platform.schemas import Id, Input, Output


class InstitutionSummaryOut(Output):
    id: int
    name: str
    slug: str
    created_at: datetime
    users: int
    courses: int
    merged_names: list[str]


class MergeIn(Input):
    duplicate_ids: list[Id] = Field(min_length=1, max_length=100)


class MergedInstitutionOut(Output):
    id: int
    name: str
    slug: str


class RenamedCourseOut(Output):
    id: int
    title: str
    slug: str


class MergeOut(Output):
    institution: MergedInstitutionOut
    merged: list[MergedInstitutionOut]
    merged_now: bool
    users_moved: int
    courses_moved: int
    renamed_courses: list[RenamedCourseOut]
    enrollments_created: int
