from datetime import datetime

from lectern.enrollments.schemas import MyEnrollmentOut, QueuedRequestOut
from lectern.platform.schemas import Output


class StudentSummaryOut(Output):
    id: int
    email: str
    full_name: str
    created_at: datetime
    active_enrollments: int
    completed_enrollments: int
    cancelled_enrollments: int
    pending_requests: int
    average_progress: float


class StudentDetailOut(StudentSummaryOut):
    enrollments: list[MyEnrollmentOut]
    access_requests: list[QueuedRequestOut]


class CourseFiguresOut(Output):
    course_id: int
    title: str
    status: str
    access: str
    active_enrollments: int
    completed_enrollments: int
    cancelled_enrollments: int
    pending_requests: int
    average_progress: float


class AnalyticsOut(Output):
    students: int
    active_enrollments: int
    completed_enrollments: int
    active_learners: int
    pending_requests: int
    average_progress: float
    completions: int
    courses: list[CourseFiguresOut]
