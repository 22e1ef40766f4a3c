from enum import StrEnum


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


class CourseRole(StrEnum):
    """A person's role in one course (the table course_staff)."""

    INSTRUCTOR = "instructor"
    TEACHING_ASSISTANT = "ta"
    OBSERVER = "observer"


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class CourseAccess(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    PAID = "paid"
    DEFAULT = "default"


class LessonKind(StrEnum):
    VIDEO = "video"
    QUIZ = "quiz"
    READING = "reading"
    QBANK = "qbank"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class EnrollmentSource(StrEnum):
    SELF = "self"
    REQUEST = "request"
    ADMIN = "admin"
    PAYMENT = "payment"
    DEFAULT = "default"
    IMPORT = "import"
    LTI = "lti"  # a launch from an LTI 1.3 platform the institution registered


class Audience(StrEnum):
    LEARNER = "learner"
    ADMINS = "admins"
    BOTH = "both"
    # Every learner of the institution (what their open catalogs show).
    LEARNERS = "learners"


class QbankTestStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    REFUNDED = "refunded"
    FAILED = "failed"
    FLAGGED = "flagged"
