"""Generated students: their profiles, enrollments, requests, payments, facts and certificates.

Each enrollment is written as the command that made it would have left it: an approved request
beside a request enrollment, a completed payment beside a paid one (refunded when it was
cancelled), facts whose progress is stored on the enrollment, and a certificate and a
notification for each completed one.
"""

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from lectern.certificates.service import new_codes
from lectern.events.types import (
    REQUEST_CLOSED,
    CertificateIssued,
    EnrollmentCancelled,
    EnrollmentCompleted,
    EnrollmentCreated,
    NotificationCreated,
    PaymentCompleted,
    PaymentFailed,
    PaymentRefunded,
    ProgressUpdated,
    RequestCreated,
    UserRegistered,
)
from lectern.generate.catalogue import Batch, Ids, InstitutionShape
from lectern.generate.learners import CourseShape, Learning, learn
from lectern.models.enums import (
    CourseAccess,
    EnrollmentSource,
    EnrollmentStatus,
    PaymentStatus,
    QbankTestStatus,
    RequestStatus,
    Role,
)

# Courses each student takes beside the institution's default ones.
CHOSEN_COURSES = 2
PROVIDER = "test"
SOURCES: dict[str, tuple[tuple[EnrollmentSource, float], ...]] = {
    CourseAccess.DEFAULT: ((EnrollmentSource.DEFAULT, 1.0),),
    CourseAccess.OPEN: ((EnrollmentSource.SELF, 0.9), (EnrollmentSource.IMPORT, 0.05),
                        (EnrollmentSource.ADMIN, 0.05)),
    CourseAccess.APPROVAL: ((EnrollmentSource.REQUEST, 0.8), (EnrollmentSource.ADMIN, 0.2)),
    CourseAccess.PAID: ((EnrollmentSource.PAYMENT, 0.9), (EnrollmentSource.ADMIN, 0.1)),
}  # fmt: skip


class Students:
    """Writes students into batches; keeps the Q-bank answers' counts for the statistics."""

    def __init__(self, rng: random.Random, ids: Ids, password_hash: str, start: datetime) -> None:
        self.rng = rng
        self.ids = ids
        self.password_hash = password_hash
        self.start = start
        self.attempts: Counter[int] = Counter()
        self.correct: Counter[int] = Counter()
        self.codes = new_codes()

    def student(self, batch: Batch, school: InstitutionShape, enrollments: int) -> int:
        """One student with up to `enrollments` enrollments; how many were made."""
        rng = self.rng
        user_id = self.ids("users")
        at = self.start + timedelta(minutes=rng.randint(0, 60 * 24 * 200))
        name = f"Student {user_id}"
        email = f"student{user_id}@{school.slug}.test"
        batch.add(
            "users",
            {"id": user_id, "institution_id": school.id, "email": email, "email_key": email,
             "password_hash": self.password_hash, "full_name": name, "role": Role.STUDENT,
             "is_platform_admin": False, "created_at": at},
        )  # fmt: skip
        batch.add("student_profiles", {"user_id": user_id, "bio": "", "created_at": at})
        batch.event(UserRegistered(user_id=user_id, full_name=name, email=email), school.id,
                    user_id, at)  # fmt: skip
        chosen = rng.sample(school.others, CHOSEN_COURSES)
        courses = [*school.default, *chosen][:enrollments]
        for course in courses:
            self._enrollment(batch, school, user_id, name, course, at)
        self._unenrolled_asks(batch, school, user_id, name, {c.id for c in courses}, at)
        return len(courses)

    def _enrollment(
        self,
        batch: Batch,
        school: InstitutionShape,
        user_id: int,
        name: str,
        course: CourseShape,
        joined: datetime,
    ) -> None:
        rng = self.rng
        r = rng.random()
        status = (
            EnrollmentStatus.COMPLETED
            if r < 0.15
            else EnrollmentStatus.CANCELLED
            if r < 0.27
            else EnrollmentStatus.ACTIVE
        )
        sources, weights = zip(*SOURCES[course.access], strict=True)
        source = rng.choices(sources, weights)[0]
        at = joined + timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        if source == EnrollmentSource.REQUEST:
            self._request(batch, school, user_id, name, course, RequestStatus.APPROVED, at)
        if source == EnrollmentSource.PAYMENT:
            refunded = status == EnrollmentStatus.CANCELLED
            self._payment(batch, user_id, course, PaymentStatus.COMPLETED, at, refunded=refunded)
        learning = learn(rng, course, at, finish=status == EnrollmentStatus.COMPLETED)
        enrollment_id = self.ids("enrollments")
        completed_at = learning.last_at if status == EnrollmentStatus.COMPLETED else None
        batch.add(
            "enrollments",
            {"id": enrollment_id, "user_id": user_id, "course_id": course.id, "status": status,
             "source": source, "progress": learning.progress, "completed_at": completed_at,
             "created_at": at, "updated_at": learning.last_at},
        )  # fmt: skip
        common: dict[str, Any] = {"id": enrollment_id, "user_id": user_id,
                                  "course_id": course.id, "course_title": course.title}  # fmt: skip
        batch.event(
            EnrollmentCreated(**common, status=EnrollmentStatus.ACTIVE, source=source,
                              progress=0.0, completed_at=None),
            school.id, user_id, at,
        )  # fmt: skip
        self._facts(batch, enrollment_id, learning)
        if learning.progress:
            batch.event(
                ProgressUpdated(enrollment_id=enrollment_id, course_id=course.id,
                                course_title=course.title, progress=learning.progress,
                                previous=0.0, status=EnrollmentStatus.ACTIVE),
                school.id, user_id, learning.last_at,
            )  # fmt: skip
        if completed_at is not None:
            self._certify(batch, school, enrollment_id, user_id, name, course, completed_at)
        if status == EnrollmentStatus.CANCELLED:
            batch.event(
                EnrollmentCancelled(**common, status=status, source=source,
                                    progress=learning.progress, completed_at=None),
                school.id, user_id, learning.last_at,
            )  # fmt: skip

    def _facts(self, batch: Batch, enrollment_id: int, learning: Learning) -> None:
        for fact in learning.lessons:
            batch.add(
                "lesson_progress",
                {"enrollment_id": enrollment_id, "lesson_id": fact.lesson_id,
                 "watched": fact.watched, "watched_s": fact.watched_s,
                 "best_score": fact.best_score, "completed_at": fact.completed_at,
                 "updated_at": fact.completed_at or learning.last_at},
            )  # fmt: skip
        for attempt in learning.attempts:
            batch.add(
                "quiz_attempts",
                {"id": self.ids("quiz_attempts"), "enrollment_id": enrollment_id,
                 "lesson_id": attempt.lesson_id, "answers": attempt.answers,
                 "score": attempt.score, "passed": attempt.passed, "created_at": attempt.at},
            )  # fmt: skip
        for test in learning.tests:
            test_id = self.ids("qbank_tests")
            finished = test.status == QbankTestStatus.COMPLETED
            batch.add(
                "qbank_tests",
                {"id": test_id, "enrollment_id": enrollment_id, "status": test.status,
                 "topic": None, "score": test.score, "created_at": test.at,
                 "finished_at": test.at + timedelta(minutes=10) if finished else None},
            )  # fmt: skip
            for question_id, position, choice, right in test.questions:
                batch.add(
                    "qbank_test_questions",
                    {"test_id": test_id, "question_id": question_id, "position": position,
                     "choice": choice, "is_correct": right},
                )  # fmt: skip
                if finished:
                    self.attempts[question_id] += 1
                    self.correct[question_id] += bool(right)

    def _certify(
        self,
        batch: Batch,
        school: InstitutionShape,
        enrollment_id: int,
        user_id: int,
        name: str,
        course: CourseShape,
        at: datetime,
    ) -> None:
        batch.event(
            EnrollmentCompleted(id=enrollment_id, user_id=user_id, course_id=course.id,
                                course_title=course.title, status=EnrollmentStatus.COMPLETED,
                                progress=100.0, completed_at=at),
            school.id, user_id, at,
        )  # fmt: skip
        code = next(self.codes)
        batch.add(
            "certificates",
            {"id": self.ids("certificates"), "enrollment_id": enrollment_id, "code": code,
             "user_id": user_id, "course_id": course.id, "learner_name": name,
             "course_title": course.title, "issued_at": at},
        )  # fmt: skip
        batch.event(
            CertificateIssued(code=code, user_id=user_id, course_id=course.id,
                              learner_name=name, course_title=course.title, issued_at=at),
            school.id, user_id, at,
        )  # fmt: skip
        notification_id = self.ids("notifications")
        note = {"kind": "certificate.issued", "title": f"You completed {course.title}",
                "body": f"Your certificate's verification code is {code}.",
                "link": f"/certificates/{code}"}  # fmt: skip
        batch.add(
            "notifications",
            {"id": notification_id, "user_id": user_id, **note, "created_at": at,
             "read_at": None},
        )  # fmt: skip
        batch.event(
            NotificationCreated(id=notification_id, **note, created_at=at, read_at=None),
            school.id, user_id, at,
        )  # fmt: skip

    def _request(
        self,
        batch: Batch,
        school: InstitutionShape,
        user_id: int,
        name: str,
        course: CourseShape,
        status: str,
        at: datetime,
    ) -> None:
        request_id = self.ids("access_requests")
        asked = at - timedelta(hours=self.rng.randint(1, 72))
        closed = status != RequestStatus.PENDING
        reviewer = (
            school.admin_id if status in (RequestStatus.APPROVED, RequestStatus.REJECTED) else None
        )
        note = "Not this term." if status == RequestStatus.REJECTED else ""
        batch.add(
            "access_requests",
            {"id": request_id, "user_id": user_id, "course_id": course.id, "status": status,
             "note": note, "reviewer_id": reviewer, "created_at": asked,
             "reviewed_at": at if closed else None},
        )  # fmt: skip
        fields: dict[str, Any] = {"id": request_id, "user_id": user_id, "course_id": course.id,
                                  "created_at": asked, "course_title": course.title}  # fmt: skip
        batch.event(
            RequestCreated(**fields, status=RequestStatus.PENDING, note="", reviewed_at=None,
                           learner_name=name),
            school.id, user_id, asked,
        )  # fmt: skip
        closing = REQUEST_CLOSED.get(RequestStatus(status))
        if closing is not None:
            batch.event(
                closing(**fields, status=status, note=note, reviewed_at=at), school.id, user_id, at
            )

    def _payment(
        self,
        batch: Batch,
        user_id: int,
        course: CourseShape,
        status: str,
        at: datetime,
        *,
        refunded: bool = False,
    ) -> None:
        payment_id = self.ids("payments")
        final = PaymentStatus.REFUNDED if refunded else status
        paid = at if status == PaymentStatus.COMPLETED else None
        refund_at = at + timedelta(days=3) if refunded else None
        batch.add(
            "payments",
            {"id": payment_id, "institution_id": course.institution_id, "user_id": user_id,
             "course_id": course.id, "provider": PROVIDER, "checkout_id": f"gen_cs_{payment_id}",
             "checkout_url": "", "payment_ref": f"gen_pi_{payment_id}" if paid else None,
             "amount_cents": course.price_cents, "currency": "usd", "status": final,
             "flag_reason": "", "created_at": at - timedelta(minutes=5),
             "updated_at": refund_at or at, "completed_at": paid, "refunded_at": refund_at},
        )  # fmt: skip
        fields: dict[str, Any] = {"id": payment_id, "user_id": user_id, "course_id": course.id,
                                  "provider": PROVIDER, "amount_cents": course.price_cents,
                                  "currency": "usd", "flag_reason": None,
                                  "course_title": course.title}  # fmt: skip
        if status == PaymentStatus.COMPLETED:
            batch.event(PaymentCompleted(**fields, status=PaymentStatus.COMPLETED),
                        course.institution_id, user_id, at)  # fmt: skip
        else:
            batch.event(PaymentFailed(**fields, status=status), course.institution_id, user_id, at)
        if refunded and refund_at is not None:
            batch.event(PaymentRefunded(**fields, status=PaymentStatus.REFUNDED),
                        course.institution_id, user_id, refund_at)  # fmt: skip

    def _unenrolled_asks(
        self,
        batch: Batch,
        school: InstitutionShape,
        user_id: int,
        name: str,
        enrolled: set[int],
        at: datetime,
    ) -> None:
        """Requests of every status and failed payments for courses the student is not in."""
        rng = self.rng
        free = [c for c in school.others if c.id not in enrolled]
        approval = [c for c in free if c.access == CourseAccess.APPROVAL]
        if approval and rng.random() < 0.4:
            status = rng.choice(
                (RequestStatus.PENDING, RequestStatus.PENDING, RequestStatus.REJECTED,
                 RequestStatus.CANCELLED)
            )  # fmt: skip
            when = at + timedelta(days=rng.randint(1, 60))
            self._request(batch, school, user_id, name, rng.choice(approval), status, when)
        paid = [c for c in free if c.access == CourseAccess.PAID]
        if paid and rng.random() < 0.05:
            when = at + timedelta(days=rng.randint(1, 60))
            self._payment(batch, user_id, rng.choice(paid), PaymentStatus.FAILED, when)
