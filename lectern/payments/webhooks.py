"""Applying a verified provider event, exactly once, in the transaction that stores it.

The event's id goes into `webhook_events` with INSERT ... ON CONFLICT DO NOTHING first: a
second delivery, even a concurrent one, finds the row (PostgreSQL makes it wait for the first
transaction) and changes nothing. Transitions of one payment are serialized by, in this order,
an advisory lock on the provider's payment reference, the learner-and-course pair lock, and
the payment row (SELECT ... FOR UPDATE); checkout takes the pair lock before the row too.
"""

from enum import StrEnum

from sqlalchemy import exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments.pair import WhenFull, cancel_enrollment, enroll, lock_pair
from lectern.enrollments.rules import is_enrolled
from lectern.events.service import record_event
from lectern.events.types import (
    PaymentChanged,
    PaymentCompleted,
    PaymentFailed,
    PaymentFlagged,
    PaymentPartiallyRefunded,
    PaymentRefunded,
)
from lectern.models import Course, Enrollment, Payment, WebhookEvent
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentSource, PaymentStatus
from lectern.notifications.service import notify, notify_admins
from lectern.payments.rules import PaymentAction, amount_mismatch, next_status
from lectern.payments.service import course_page, payment_payload
from lectern.payments.stripe_events import (
    COMPLETED_TYPES,
    FAILED_TYPES,
    HANDLED_TYPES,
    REFUNDED_TYPES,
    ProviderEvent,
    refund_facts,
    session_facts,
)
from lectern.platform.db import insert_for


class Outcome(StrEnum):
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNMATCHED = "unmatched"
    UNCHANGED = "unchanged"
    AWAITING_PAYMENT = "awaiting_payment"
    COMPLETED = "completed"
    FLAGGED = "flagged"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    FAILED = "failed"


async def receive_event(session: AsyncSession, provider: str, event: ProviderEvent) -> Outcome:
    """Store a verified event once and apply it; a repeated delivery is a no-op."""
    if event.type not in HANDLED_TYPES:
        return Outcome.IGNORED
    stored_id = await session.scalar(
        insert_for(session)(WebhookEvent)
        .values(
            provider=provider,
            external_id=event.id,
            type=event.type,
            payload=event.body,
            outcome="",
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["provider", "external_id"])
        .returning(WebhookEvent.id)
    )
    if stored_id is None:
        return Outcome.DUPLICATE
    if event.type in REFUNDED_TYPES:
        outcome, payment_id, ref = await _refund(session, provider, event)
    else:
        outcome, payment_id, ref = await _checkout_result(session, provider, event)
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == stored_id)
        .values(outcome=outcome, payment_id=payment_id, payment_ref=ref)
    )
    return outcome


async def _lock_ref(session: AsyncSession, ref: str | None) -> None:
    if ref and session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:ref, 0))"), {"ref": ref}
        )


async def _locked_payment(session: AsyncSession, payment: Payment) -> Payment:
    if payment.user_id is not None:
        await lock_pair(session, payment.user_id, payment.course_id)
    return (
        await session.scalars(
            select(Payment)
            .where(Payment.id == payment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()


async def _find_payment(
    session: AsyncSession, provider: str, payment_id: int | None, ref: str | None
) -> Payment | None:
    if payment_id is not None:
        payment = await session.get(Payment, payment_id)
        if payment is not None and payment.provider == provider:
            return payment
    if ref:
        return await session.scalar(
            select(Payment).where(Payment.provider == provider, Payment.payment_ref == ref)
        )
    return None


async def _checkout_result(
    session: AsyncSession, provider: str, event: ProviderEvent
) -> tuple[Outcome, int | None, str | None]:
    facts = session_facts(event)
    await _lock_ref(session, facts.payment_ref)
    found = await _find_payment(session, provider, facts.payment_id, None)
    if found is None:
        return Outcome.UNMATCHED, None, facts.payment_ref
    payment = await _locked_payment(session, found)
    course = await session.get_one(Course, payment.course_id)
    if payment.checkout_id is None:
        payment.checkout_id = facts.session_id
    if facts.payment_ref and payment.payment_ref is None:
        payment.payment_ref = facts.payment_ref
    if event.type in FAILED_TYPES:
        changed = await _transition(session, payment, course, PaymentAction.FAIL, PaymentFailed)
        return (Outcome.FAILED if changed else Outcome.UNCHANGED), payment.id, facts.payment_ref
    assert event.type in COMPLETED_TYPES
    if not facts.paid:
        await session.flush()
        return Outcome.AWAITING_PAYMENT, payment.id, facts.payment_ref
    if await _refund_arrived_first(session, provider, facts.payment_ref):
        await session.execute(
            update(WebhookEvent)
            .where(
                WebhookEvent.provider == provider,
                WebhookEvent.type.in_(REFUNDED_TYPES),
                WebhookEvent.payment_ref == facts.payment_ref,
                WebhookEvent.outcome == Outcome.UNMATCHED,
            )
            .values(payment_id=payment.id, outcome=Outcome.REFUNDED)
        )
        changed = await _refund_payment(session, payment, course)
        return (Outcome.REFUNDED if changed else Outcome.UNCHANGED), payment.id, facts.payment_ref
    reason = _mismatch(payment, facts.session_id, facts.amount_cents, facts.currency)
    if reason is not None:
        changed = await _flag(session, payment, course, reason)
        return (Outcome.FLAGGED if changed else Outcome.UNCHANGED), payment.id, facts.payment_ref
    changed = await _complete(session, payment, course)
    return (Outcome.COMPLETED if changed else Outcome.UNCHANGED), payment.id, facts.payment_ref


def _mismatch(
    payment: Payment, session_id: str, amount_cents: int | None, currency: str | None
) -> str | None:
    if payment.checkout_id != session_id:
        return f"checkout {session_id} is not this payment's checkout {payment.checkout_id}"
    if amount_cents is None or currency is None:
        return "the provider did not say how much was paid"
    return amount_mismatch(
        expected_cents=payment.amount_cents,
        expected_currency=payment.currency,
        paid_cents=amount_cents,
        paid_currency=currency,
    )


async def _refund_arrived_first(session: AsyncSession, provider: str, ref: str | None) -> bool:
    """A refund that named no payment Lectern knew, for the money this completion reports."""
    if not ref:
        return False
    found = await session.scalar(
        select(
            exists().where(
                WebhookEvent.provider == provider,
                WebhookEvent.type.in_(REFUNDED_TYPES),
                WebhookEvent.payment_ref == ref,
                WebhookEvent.outcome == Outcome.UNMATCHED,
            )
        )
    )
    return bool(found)


async def _transition(
    session: AsyncSession,
    payment: Payment,
    course: Course,
    action: PaymentAction,
    changed: type[PaymentChanged],
) -> bool:
    new_status = next_status(payment.status, action)
    if new_status is None:
        await session.flush()
        return False
    payment.status = new_status
    payment.updated_at = utcnow()
    if new_status == PaymentStatus.COMPLETED:
        payment.completed_at = payment.updated_at
    elif new_status == PaymentStatus.REFUNDED:
        payment.refunded_at = payment.updated_at
    await session.flush()
    record_event(
        session,
        changed(**payment_payload(payment), course_title=course.title),
        institution_id=course.institution_id,
        user_id=payment.user_id,
    )
    return True


async def _complete(session: AsyncSession, payment: Payment, course: Course) -> bool:
    """The course is paid for: the learner is enrolled and told so."""
    if not await _transition(session, payment, course, PaymentAction.COMPLETE, PaymentCompleted):
        return False
    if payment.user_id is None:
        return True
    # Paid for: a seat taken since the checkout (which a full course refuses) does not undo it.
    await enroll(
        session,
        user_id=payment.user_id,
        course=course,
        source=EnrollmentSource.PAYMENT,
        when_full=WhenFull.OVERRIDE,
    )
    await notify(
        session,
        user_id=payment.user_id,
        institution_id=course.institution_id,
        kind="payment.completed",
        title=f"Payment received: you are enrolled in {course.title}",
        link=course_page(course.id),
    )
    return True


async def _flag(session: AsyncSession, payment: Payment, course: Course, reason: str) -> bool:
    """Money arrived that does not pay for the course: admins look, nobody is enrolled."""
    if next_status(payment.status, PaymentAction.FLAG) is None:
        await session.flush()
        return False
    payment.flag_reason = reason
    await _transition(session, payment, course, PaymentAction.FLAG, PaymentFlagged)
    await notify_admins(
        session,
        institution_id=course.institution_id,
        kind="payment.flagged",
        title=f"A payment for {course.title} needs review",
        body=reason,
        link=f"/admin/courses/{course.id}",
    )
    return True


async def _refund_payment(session: AsyncSession, payment: Payment, course: Course) -> bool:
    """The money went back: the enrollment it bought is cancelled, whenever it was made."""
    if not await _transition(session, payment, course, PaymentAction.REFUND, PaymentRefunded):
        return False
    if payment.user_id is None:
        return True
    enrollment = await session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == payment.user_id, Enrollment.course_id == course.id
        )
    )
    # An enrollment an admin or a request made stands on its own, and so does one that
    # another completed payment of the learner bought.
    if (
        enrollment is not None
        and is_enrolled(enrollment.status)
        and enrollment.source == EnrollmentSource.PAYMENT
        and not await _paid_otherwise(session, payment)
    ):
        await cancel_enrollment(session, enrollment, course, reason="Your payment was refunded.")
    else:
        await notify(
            session,
            user_id=payment.user_id,
            institution_id=course.institution_id,
            kind="payment.refunded",
            title=f"Your payment for {course.title} was refunded",
            link=course_page(course.id),
        )
    return True


async def _paid_otherwise(session: AsyncSession, payment: Payment) -> bool:
    found = await session.scalar(
        select(
            exists().where(
                Payment.user_id == payment.user_id,
                Payment.course_id == payment.course_id,
                Payment.status == PaymentStatus.COMPLETED,
                Payment.id != payment.id,
            )
        )
    )
    return bool(found)


async def _refund(
    session: AsyncSession, provider: str, event: ProviderEvent
) -> tuple[Outcome, int | None, str | None]:
    facts = refund_facts(event)
    await _lock_ref(session, facts.payment_ref)
    found = await _find_payment(session, provider, facts.payment_id, facts.payment_ref)
    if found is None:
        return Outcome.UNMATCHED, None, facts.payment_ref
    payment = await _locked_payment(session, found)
    course = await session.get_one(Course, payment.course_id)
    if facts.payment_ref and payment.payment_ref is None:
        payment.payment_ref = facts.payment_ref
    if not facts.fully_refunded:
        await session.flush()
        record_event(
            session,
            PaymentPartiallyRefunded(
                **payment_payload(payment),
                course_title=course.title,
                amount_refunded=facts.amount_refunded,
            ),
            institution_id=course.institution_id,
            user_id=payment.user_id,
        )
        return Outcome.PARTIALLY_REFUNDED, payment.id, facts.payment_ref
    changed = await _refund_payment(session, payment, course)
    return (Outcome.REFUNDED if changed else Outcome.UNCHANGED), payment.id, facts.payment_ref
