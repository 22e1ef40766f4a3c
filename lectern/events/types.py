"""The event catalogue: every event type once, with its audience and its payload.

An event type is a class here. Its `type` is the name clients see in the stream and the log
(`request.approved`), its `audience` says who it reaches (lectern.events.rules.can_see decides
with it), and its fields are the payload. A command records one by instance:

    record_event(session, RequestApproved(...), institution_id=..., user_id=...)

and the stored row and the stream carry `payload()`: the fields as JSON, timestamps in ISO 8601
as `datetime.isoformat` writes them, an optional field left out when it was not given.

The audience part `learner` needs a learner: an event that names none (`user_id` None; a
payment whose buyer was deleted) reaches the admins only, and is stored so. Course and content
events name no learner, so they are the admins' alone. An event about a course (`course()`:
its `course_id`, or a course event's `id`) reaches that course's staff too.

| type | audience | payload |
|---|---|---|
| user.registered | both | UserRegistered |
| user.deleted | admins | UserDeleted |
| request.created | both | RequestCreated |
| request.approved, request.rejected, request.cancelled | both | RequestClosed |
| enrollment.created, enrollment.reactivated, enrollment.cancelled | both | EnrollmentChanged |
| enrollment.expired | both | EnrollmentChanged |
| enrollment.end_changed | both | EnrollmentEndChanged |
| enrollment.expiring | both | EnrollmentExpiring |
| waitlist.joined, waitlist.left, waitlist.enrolled | both | WaitlistChanged |
| enrollment.completed | both | EnrollmentCompleted |
| enrollment.imported | admins | EnrollmentImported |
| progress.updated | both | ProgressUpdated |
| certificate.issued | both | CertificateIssued |
| qbank.test_finished | both | QbankTestFinished |
| lesson.watched | both | LessonWatched |
| quiz.attempted | both | QuizAttempted |
| notification.created | learner | NotificationCreated |
| payment.created, .completed, .failed, .flagged, .refunded | both | PaymentChanged |
| payment.partially_refunded | admins | PaymentPartiallyRefunded |
| course.created, .updated, .draft, .published, .archived | admins | CourseChanged |
| course.deleted | admins | CourseDeleted |
| course.staff_assigned, course.staff_removed | admins | CourseStaffChanged |
| content.chapter_added, .chapter_updated, .chapter_removed | admins | ChapterChanged |
| content.lesson_added, .lesson_removed / .lesson_updated | admins | LessonChanged / LessonUpdated |
| content.qbank_added / content.qbank_removed | admins | QbankAdded / QbankRemoved |
| institution.merged | admins | InstitutionMerged |
| audit.repaired | admins | AuditRepaired |
| audit.progressed | admins | AuditProgressed |
| import.completed | admins | LegacyImported |
"""

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

from lectern.models.enums import (
    Audience,
    CourseAccess,
    CourseRole,
    CourseStatus,
    EnrollmentSource,
    EnrollmentStatus,
    PaymentStatus,
    RequestStatus,
)

# As the payloads have always written them (`+00:00`, not pydantic's `Z`).
Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat)]


class DomainEvent(BaseModel):
    """An event type's payload; the class carries the type's name and audience."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    audience: ClassVar[Audience]

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)

    def course(self) -> int | None:
        """The course it is about, if any: that course's staff see it."""
        course_id = getattr(self, "course_id", None)
        return course_id if isinstance(course_id, int) else None

    @classmethod
    def audience_for(cls, user_id: int | None) -> Audience:
        """Who it reaches when it concerns `user_id`: nobody's learner part without a learner."""
        if user_id is None and cls.audience == Audience.BOTH:
            return Audience.ADMINS
        return cls.audience


# People


class UserRegistered(DomainEvent):
    type = "user.registered"
    audience = Audience.BOTH
    user_id: int
    full_name: str
    email: str


class UserDeleted(DomainEvent):
    type = "user.deleted"
    audience = Audience.ADMINS
    user_id: int


class MergedInstitution(BaseModel):
    id: int
    name: str
    slug: str


class InstitutionMerged(DomainEvent):
    type = "institution.merged"
    audience = Audience.ADMINS
    institution_id: int
    merged: list[MergedInstitution]
    users_moved: int
    courses_moved: int


# Access requests


class RequestFields(DomainEvent):
    id: int
    user_id: int
    course_id: int
    status: RequestStatus
    note: str
    created_at: Timestamp
    reviewed_at: Timestamp | None
    course_title: str | None = None


class RequestCreated(RequestFields):
    type = "request.created"
    audience = Audience.BOTH
    learner_name: str


class RequestClosed(RequestFields):
    """A request that is no longer pending; its type is its new status."""


class RequestApproved(RequestClosed):
    type = "request.approved"
    audience = Audience.BOTH


class RequestRejected(RequestClosed):
    type = "request.rejected"
    audience = Audience.BOTH


class RequestCancelled(RequestClosed):
    type = "request.cancelled"
    audience = Audience.BOTH


REQUEST_CLOSED: dict[RequestStatus, type[RequestClosed]] = {
    RequestStatus.APPROVED: RequestApproved,
    RequestStatus.REJECTED: RequestRejected,
    RequestStatus.CANCELLED: RequestCancelled,
}


# Enrollments and learning


class EnrollmentChanged(DomainEvent):
    id: int
    user_id: int
    course_id: int
    status: EnrollmentStatus
    source: EnrollmentSource
    progress: float
    completed_at: Timestamp | None
    ends_at: Timestamp | None = None
    course_title: str


class EnrollmentCreated(EnrollmentChanged):
    type = "enrollment.created"
    audience = Audience.BOTH


class EnrollmentReactivated(EnrollmentChanged):
    type = "enrollment.reactivated"
    audience = Audience.BOTH


class EnrollmentCancelled(EnrollmentChanged):
    type = "enrollment.cancelled"
    audience = Audience.BOTH


class EnrollmentExpired(EnrollmentChanged):
    """Its `ends_at` passed: the learner keeps history and certificate, not the course."""

    type = "enrollment.expired"
    audience = Audience.BOTH


class EnrollmentEndChanged(EnrollmentChanged):
    """An admin moved an active enrollment's end (`ends_at` None: it lasts)."""

    type = "enrollment.end_changed"
    audience = Audience.BOTH
    previous_ends_at: Timestamp | None = None


class EnrollmentExpiring(DomainEvent):
    """The learner was told their enrollment ends soon."""

    type = "enrollment.expiring"
    audience = Audience.BOTH
    id: int
    user_id: int
    course_id: int
    course_title: str
    ends_at: Timestamp


class WaitlistChanged(DomainEvent):
    user_id: int
    course_id: int
    course_title: str
    position: int | None = None
    enrollment_id: int | None = None


class WaitlistJoined(WaitlistChanged):
    """The course was full: the learner waits for a seat at `position`."""

    type = "waitlist.joined"
    audience = Audience.BOTH


class WaitlistLeft(WaitlistChanged):
    type = "waitlist.left"
    audience = Audience.BOTH


class WaitlistEnrolled(WaitlistChanged):
    """A seat freed and went to the learner first in line."""

    type = "waitlist.enrolled"
    audience = Audience.BOTH


class EnrollmentCompleted(DomainEvent):
    type = "enrollment.completed"
    audience = Audience.BOTH
    id: int
    user_id: int
    course_id: int
    course_title: str
    status: EnrollmentStatus
    progress: float
    completed_at: Timestamp


class EnrollmentImported(DomainEvent):
    """An applied roster file (lectern.rosters): how many of its rows did what."""

    type = "enrollment.imported"
    audience = Audience.ADMINS
    filename: str
    rows: int
    outcomes: dict[str, int]


class LessonProgressed(BaseModel):
    """A lesson's state after the command that changed it (lectern.learning LessonState)."""

    lesson_id: int
    watched_s: float
    completed: bool
    best_score: float | None = None


class ProgressUpdated(DomainEvent):
    type = "progress.updated"
    audience = Audience.BOTH
    enrollment_id: int
    course_id: int
    course_title: str
    progress: float
    previous: float
    status: EnrollmentStatus
    qbank_score: float | None = None  # given when a finished Q-bank test counted
    lessons: list[LessonProgressed] | None = None  # given when lesson facts changed


class CertificateIssued(DomainEvent):
    type = "certificate.issued"
    audience = Audience.BOTH
    code: str
    user_id: int
    course_id: int
    learner_name: str
    course_title: str
    issued_at: Timestamp


class QbankTestFinished(DomainEvent):
    type = "qbank.test_finished"
    audience = Audience.BOTH
    test_id: int
    course_id: int
    score: float | None
    questions: int
    correct: int
    # The course's Q-bank pass mark when the test finished, and whether the score reached it.
    pass_mark: float | None = None
    passed: bool | None = None


class LessonWatched(DomainEvent):
    """A learner's accepted batch of watching one video: the segments played, in the order
    sent, and what was watched before them (merged), so that the lesson's state after it is
    the union of both."""

    type = "lesson.watched"
    audience = Audience.BOTH
    enrollment_id: int
    course_id: int
    course_title: str
    lesson_id: int
    lesson_title: str
    duration_s: float
    played: list[tuple[float, float]]
    watched_before: list[tuple[float, float]]
    completed_now: bool


class QuizAttempted(DomainEvent):
    """A quiz attempt, scored on the server (score and pass mark 0 to 1)."""

    type = "quiz.attempted"
    audience = Audience.BOTH
    attempt_id: int
    enrollment_id: int
    course_id: int
    course_title: str
    lesson_id: int
    lesson_title: str
    score: float
    pass_mark: float
    passed: bool


class NotificationCreated(DomainEvent):
    type = "notification.created"
    audience = Audience.LEARNER
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: Timestamp
    read_at: Timestamp | None


# Payments


class PaymentChanged(DomainEvent):
    id: int
    user_id: int | None
    course_id: int
    provider: str
    amount_cents: int
    currency: str
    status: PaymentStatus
    flag_reason: str | None
    course_title: str


class PaymentCreated(PaymentChanged):
    type = "payment.created"
    audience = Audience.BOTH


class PaymentCompleted(PaymentChanged):
    type = "payment.completed"
    audience = Audience.BOTH


class PaymentFailed(PaymentChanged):
    type = "payment.failed"
    audience = Audience.BOTH


class PaymentFlagged(PaymentChanged):
    type = "payment.flagged"
    audience = Audience.BOTH


class PaymentRefunded(PaymentChanged):
    type = "payment.refunded"
    audience = Audience.BOTH


class PaymentPartiallyRefunded(PaymentChanged):
    type = "payment.partially_refunded"
    audience = Audience.ADMINS
    amount_refunded: int


# Courses and their content


class CourseChanged(DomainEvent):
    id: int
    title: str
    status: CourseStatus
    access: CourseAccess
    price_cents: int
    currency: str

    def course(self) -> int:
        return self.id


class CourseCreated(CourseChanged):
    type = "course.created"
    audience = Audience.ADMINS


class CourseUpdated(CourseChanged):
    """Fields changed, the status not."""

    type = "course.updated"
    audience = Audience.ADMINS


class CourseMadeDraft(CourseChanged):
    type = "course.draft"
    audience = Audience.ADMINS


class CoursePublished(CourseChanged):
    type = "course.published"
    audience = Audience.ADMINS


class CourseArchived(CourseChanged):
    type = "course.archived"
    audience = Audience.ADMINS


COURSE_STATUS_CHANGED: dict[CourseStatus, type[CourseChanged]] = {
    CourseStatus.DRAFT: CourseMadeDraft,
    CourseStatus.PUBLISHED: CoursePublished,
    CourseStatus.ARCHIVED: CourseArchived,
}


class CourseDeleted(DomainEvent):
    type = "course.deleted"
    audience = Audience.ADMINS
    id: int

    def course(self) -> int:
        return self.id


class CourseStaffChanged(DomainEvent):
    course_id: int
    user_id: int
    role: CourseRole


class CourseStaffAssigned(CourseStaffChanged):
    """A person became staff of the course, or their course role changed."""

    type = "course.staff_assigned"
    audience = Audience.ADMINS


class CourseStaffRemoved(CourseStaffChanged):
    type = "course.staff_removed"
    audience = Audience.ADMINS


class CatalogChanged(DomainEvent):
    """A course that is or was just published changed: learners' open catalogs read it again
    (staff hear of it as course.* and content.*). It names only the course, so that nothing of
    a draft reaches the learners who hear it."""

    type = "catalog.changed"
    audience = Audience.LEARNERS
    course_id: int


class ContentChanged(DomainEvent):
    course_id: int


class ChapterChanged(ContentChanged):
    chapter_id: int


class ChapterAdded(ChapterChanged):
    type = "content.chapter_added"
    audience = Audience.ADMINS


class ChapterUpdated(ChapterChanged):
    type = "content.chapter_updated"
    audience = Audience.ADMINS


class ChapterRemoved(ChapterChanged):
    type = "content.chapter_removed"
    audience = Audience.ADMINS


class LessonChanged(ContentChanged):
    lesson_id: int


class LessonAdded(LessonChanged):
    type = "content.lesson_added"
    audience = Audience.ADMINS


class LessonUpdated(LessonChanged):
    type = "content.lesson_updated"
    audience = Audience.ADMINS
    fields: list[str]


class LessonRemoved(LessonChanged):
    type = "content.lesson_removed"
    audience = Audience.ADMINS


class QbankAdded(ContentChanged):
    type = "content.qbank_added"
    audience = Audience.ADMINS
    questions: int


class QbankRemoved(ContentChanged):
    type = "content.qbank_removed"
    audience = Audience.ADMINS
    question_id: int


# Audit


class AuditRepaired(DomainEvent):
    type = "audit.repaired"
    audience = Audience.ADMINS
    invariant: str
    row: dict[str, str]


class AuditProgressed(DomainEvent):
    """An audit run of the institution moved on: how far, and once finished what it found."""

    type = "audit.progressed"
    audience = Audience.ADMINS
    run_id: int
    status: str
    progress: float
    ok: bool | None = None


# Legacy import


class LegacyImported(DomainEvent):
    """An applied `lectern import-legacy`: this institution's part of its report."""

    type = "import.completed"
    audience = Audience.ADMINS
    import_id: int
    source: str
    decisions: dict[str, int]
    created: dict[str, int]


def _concrete(base: type[DomainEvent]) -> list[type[DomainEvent]]:
    found = []
    for cls in base.__subclasses__():
        if "type" in vars(cls):
            found.append(cls)
        found += _concrete(cls)
    return found


# Every event type, by name; a type defined twice would hide one here (a test checks).
CATALOGUE: dict[str, type[DomainEvent]] = {cls.type: cls for cls in _concrete(DomainEvent)}
