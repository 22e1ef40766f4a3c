"""Buying a course: the pending payment, its checkout, and what admins and learners see of it.

A checkout is two short transactions around the provider call, so no database transaction
waits on the network: the pending payment first (one per learner and course, by a partial
unique index), then the provider's checkout attached to it. The provider call carries an
idempotency key derived from the payment, so racing or retried requests share one checkout.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.enrollments import seats
from lectern.enrollments.pair import lock_pair
from lectern.enrollments.rules import is_enrolled
from lectern.enrollments.service import require_enrollment_open, visible_course
from lectern.events.service import record_event
from lectern.events.types import PaymentCreated, PaymentFailed
from lectern.models import Course, Enrollment, Payment, User, WebhookEvent
from lectern.models.base import utcnow
from lectern.models.enums import CourseAccess, PaymentStatus, Role
from lectern.payments.providers import Checkout
from lectern.payments.rules import price_changed
from lectern.platform.actor import Actor
from lectern.platform.db import insert_for
from lectern.platform.errors import Conflict, Forbidden, NotFound
from lectern.platform.keyset import NEWEST_FIRST, decode_cursor, encode_cursor, rows_of_page


@dataclass(frozen=True, slots=True)
class CheckoutStart:
    payment: Payment
    course: Course
    created: bool


def course_page(course_id: int) -> str:
    """Where the student app shows a course: the way back from a checkout."""
    return f"/learn/courses/{course_id}"


def payment_payload(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "user_id": payment.user_id,
        "course_id": payment.course_id,
        "provider": payment.provider,
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "status": payment.status,
        "flag_reason": payment.flag_reason,
    }


async def start_checkout(
    session: AsyncSession, actor: Actor, course_id: int, provider: str
) -> CheckoutStart:
    """Open a pending payment for a paid course; the pending one already there is returned."""
    if not actor.is_student:
        raise Forbidden("Only students buy courses.")
    course = await visible_course(session, actor, course_id)
    if course.access != CourseAccess.PAID:
        raise Conflict("This course is not sold.", slug="not-for-sale")
    if course.price_cents <= 0:
        raise Conflict("This course has no price.", slug="not-for-sale")
    await lock_pair(session, actor.id, course.id)
    enrollment_status = await session.scalar(
        select(Enrollment.status).where(
            Enrollment.user_id == actor.id, Enrollment.course_id == course.id
        )
    )
    if is_enrolled(enrollment_status):
        raise Conflict("You are already enrolled in this course.", slug="already-enrolled")
    require_enrollment_open(course)
    if not await seats.seat_free(session, course.id):
        raise Conflict(f"{course.title} has no seat left.", slug="course-full")
    pending = await _pending_payment(session, actor.id, course.id)
    if pending is not None:
        if pending.provider == provider and not price_changed(
            payment_cents=pending.amount_cents,
            payment_currency=pending.currency,
            price_cents=course.price_cents,
            price_currency=course.currency,
        ):
            return CheckoutStart(pending, course, created=False)
        await _abandon(session, pending, course, "The price or the provider changed.")
    now = utcnow()
    insert = insert_for(session)
    payment_id = await session.scalar(
        insert(Payment)
        .values(
            institution_id=course.institution_id,
            user_id=actor.id,
            course_id=course.id,
            provider=provider,
            checkout_url="",
            amount_cents=course.price_cents,
            currency=course.currency,
            status=PaymentStatus.PENDING,
            flag_reason="",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["user_id", "course_id"],
            # A literal, not a bound parameter: PostgreSQL must match the partial index's
            # predicate when it plans the statement, and a cached generic plan cannot.
            index_where=text("status = 'pending'"),
        )
        .returning(Payment.id)
    )
    if payment_id is None:
        # Only reachable without the pair lock (SQLite from several processes).
        pending = await _pending_payment(session, actor.id, course.id)
        if pending is None:
            raise Conflict("Another checkout is being started; try again.", slug="checkout-busy")
        return CheckoutStart(pending, course, created=False)
    payment = await session.get_one(Payment, payment_id)
    record_event(
        session,
        PaymentCreated(**payment_payload(payment), course_title=course.title),
        institution_id=course.institution_id,
        user_id=actor.id,
    )
    return CheckoutStart(payment, course, created=True)


async def attach_checkout(session: AsyncSession, payment_id: int, checkout: Checkout) -> Payment:
    """Record the provider's checkout on its payment; the first one attached stays."""
    await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.checkout_id.is_(None))
        .values(checkout_id=checkout.id, checkout_url=checkout.url, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return (
        await session.scalars(
            select(Payment)
            .where(Payment.id == payment_id)
            .execution_options(populate_existing=True)
        )
    ).one()


async def refundable_payment(session: AsyncSession, actor: Actor, payment_id: int) -> Payment:
    """A payment of the admin's institution whose money can be given back."""
    if not actor.is_admin:
        raise Forbidden("Only an admin refunds payments.")
    payment = await session.get(Payment, payment_id)
    if payment is None or payment.institution_id != actor.institution_id:
        raise NotFound("No such payment.")
    if payment.status not in (
        PaymentStatus.COMPLETED,
        PaymentStatus.FLAGGED,
        PaymentStatus.REFUNDED,
    ):
        raise Conflict(f"This payment is {payment.status}; no money was received.", slug="not-paid")
    if payment.payment_ref is None:
        raise Conflict("The provider did not say which payment to refund.", slug="not-paid")
    return payment


async def _pending_payment(session: AsyncSession, user_id: int, course_id: int) -> Payment | None:
    return await session.scalar(
        select(Payment).where(
            Payment.user_id == user_id,
            Payment.course_id == course_id,
            Payment.status == PaymentStatus.PENDING,
        )
    )


async def _abandon(session: AsyncSession, payment: Payment, course: Course, reason: str) -> None:
    payment.status = PaymentStatus.FAILED
    payment.flag_reason = reason
    await session.flush()
    record_event(
        session,
        PaymentFailed(**payment_payload(payment), course_title=course.title),
        institution_id=course.institution_id,
        user_id=payment.user_id,
    )


# A payment's columns, with its course's title, its learner's name and e-mail, and the
# learner's enrollment status: plain rows, no ORM objects to build.
PaymentRow = Row[Any]


def _payments_query() -> Any:
    return (
        select(
            *Payment.__table__.c,
            Course.title.label("course_title"),
            User.full_name.label("learner_name"),
            User.email.label("learner_email"),
            Enrollment.status.label("enrollment_status"),
        )
        .join(Course, Course.id == Payment.course_id)
        .outerjoin(User, User.id == Payment.user_id)
        .outerjoin(
            Enrollment,
            (Enrollment.user_id == Payment.user_id) & (Enrollment.course_id == Payment.course_id),
        )
    )


@functools.cache
def _payments_page(
    by_course: bool, by_user: bool, by_status: bool, by_cursor: bool, by_offset: bool, lateral: bool
) -> Any:
    """A page of an institution's payments, newest first: the page's ids first, from the index
    on (institution_id, id) alone, then their rows. Built once for each shape of the page
    (building it took about as long as running it)."""
    ids = select(Payment.id).where(Payment.institution_id == bindparam("institution_id"))
    if by_course:
        ids = ids.where(Payment.course_id == bindparam("course_id"))
    if by_user:
        ids = ids.where(Payment.user_id == bindparam("user_id"))
    if by_status:
        ids = ids.where(Payment.status == bindparam("status"))
    if by_cursor:
        ids = ids.where(Payment.id < bindparam("before"))
    elif by_offset:
        ids = ids.offset(bindparam("offset", type_=Integer))
    page = ids.order_by(Payment.id.desc()).limit(bindparam("size", type_=Integer)).subquery("page")
    return rows_of_page(_payments_query(), Payment.id, page, lateral=lateral)


async def institution_payments(
    session: AsyncSession,
    actor: Actor,
    *,
    course_id: int | None = None,
    user_id: int | None = None,
    status: PaymentStatus | None = None,
    limit: int = 100,
    offset: int = 0,
    cursor: str | None = None,
) -> tuple[Sequence[PaymentRow], str | None]:
    """A page of an admin's view of the institution's payments, by course and by learner,
    newest first, from `cursor` (or `offset`), with the cursor of the next page if there may
    be one."""
    if course_id is not None:
        course = await session.get(Course, course_id)
        if course is None or course.institution_id != actor.institution_id:
            raise NotFound("No such course.")
    if user_id is not None:
        user = await session.get(User, user_id)
        if user is None or user.institution_id != actor.institution_id or user.role != Role.STUDENT:
            raise NotFound("No such student.")
    before = None if cursor is None else decode_cursor(cursor, NEWEST_FIRST, (int,))[0]
    query = _payments_page(
        course_id is not None,
        user_id is not None,
        status is not None,
        before is not None,
        offset > 0,
        session.get_bind().dialect.name == "postgresql",
    )
    values = {
        "institution_id": actor.institution_id,
        "course_id": course_id,
        "user_id": user_id,
        "status": status,
        "before": before,
        "offset": offset,
        "size": limit + 1,
    }
    rows = (await session.execute(query, values)).all()
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(NEWEST_FIRST, (rows[limit - 1].id,))


async def institution_payment(
    session: AsyncSession, actor: Actor, payment_id: int
) -> tuple[PaymentRow, Sequence[WebhookEvent]]:
    """One payment of the institution, with every provider event that concerned it."""
    row = (await session.execute(_payments_query().where(Payment.id == payment_id))).first()
    if row is None or row.institution_id != actor.institution_id:
        raise NotFound("No such payment.")
    events = (
        await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.payment_id == payment_id)
            .order_by(WebhookEvent.id)
        )
    ).all()
    return row, events


async def learner_payments(session: AsyncSession, actor: Actor) -> Sequence[PaymentRow]:
    rows = await session.execute(
        _payments_query().where(Payment.user_id == actor.id).order_by(Payment.id.desc())
    )
    return rows.all()


async def learner_payment(session: AsyncSession, actor: Actor, payment_id: int) -> PaymentRow:
    row = (await session.execute(_payments_query().where(Payment.id == payment_id))).first()
    if row is None or row.user_id != actor.id:
        raise NotFound("No such payment.")
    return row
