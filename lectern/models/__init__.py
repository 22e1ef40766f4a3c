"""All tables, imported together so that metadata and Alembic see every one."""

from lectern.models.accounts import AccountLink, ApiToken, AuthSession, StudentProfile, User
from lectern.models.audit import AuditRun
from lectern.models.base import Base
from lectern.models.certificates import Certificate
from lectern.models.courses import Chapter, Course, Lesson
from lectern.models.enrollments import AccessRequest, Enrollment
from lectern.models.events import Event, Notification
from lectern.models.imports import LegacyImport, LegacyLinks
from lectern.models.institutions import Institution, InstitutionMerge
from lectern.models.learning import LessonProgress, QuizAttempt
from lectern.models.lti import (
    LtiAccount,
    LtiGradeLink,
    LtiLaunch,
    LtiLogin,
    LtiPlatform,
    LtiScore,
    LtiToolKey,
)
from lectern.models.mail import MailPreferences, OutboxMessage
from lectern.models.oidc import OidcFlow, OidcIdentity, OidcProvider, OidcSignIn
from lectern.models.outbound import OutboundDelivery, OutboundDestination
from lectern.models.payments import Payment, WebhookEvent
from lectern.models.qbank import QbankQuestion, QbankTest, QbankTestQuestion
from lectern.models.staff import CourseStaff
from lectern.models.tallies import (
    CompletionDay,
    CourseTally,
    InstitutionTally,
    LearnerTally,
    ProgressBucket,
)
from lectern.models.waitlist import WaitlistEntry
from lectern.models.webhooks import WebhookSubscription
from lectern.models.xapi import XapiDestination

__all__ = [
    "AccessRequest",
    "AccountLink",
    "ApiToken",
    "AuditRun",
    "AuthSession",
    "Base",
    "Certificate",
    "Chapter",
    "CompletionDay",
    "Course",
    "CourseStaff",
    "CourseTally",
    "Enrollment",
    "Event",
    "Institution",
    "InstitutionMerge",
    "InstitutionTally",
    "LearnerTally",
    "LegacyImport",
    "LegacyLinks",
    "Lesson",
    "LessonProgress",
    "LtiAccount",
    "LtiGradeLink",
    "LtiLaunch",
    "LtiLogin",
    "LtiPlatform",
    "LtiScore",
    "LtiToolKey",
    "MailPreferences",
    "Notification",
    "OidcFlow",
    "OidcIdentity",
    "OidcProvider",
    "OidcSignIn",
    "OutboundDelivery",
    "OutboundDestination",
    "OutboxMessage",
    "Payment",
    "ProgressBucket",
    "QbankQuestion",
    "QbankTest",
    "QbankTestQuestion",
    "QuizAttempt",
    "StudentProfile",
    "User",
    "WaitlistEntry",
    "WebhookEvent",
    "WebhookSubscription",
    "XapiDestination",
]
