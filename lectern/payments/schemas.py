from datetime import datetime
from typing import Any

from lectern.platform.schemas import Output, outputs


class CheckoutOut(Output):
    payment_id: int
    checkout_url: str
    status: str


class PaymentFields(Output):
    id: int
    user_id: int | None
    course_id: int
    institution_id: int
    provider: str
    checkout_id: str | None
    checkout_url: str
    payment_ref: str | None
    amount_cents: int
    currency: str
    status: str
    flag_reason: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    refunded_at: datetime | None


class PaymentOut(PaymentFields):
    course_title: str
    learner_name: str | None
    learner_email: str | None
    # The learner's enrollment in the course now, whatever made it.
    enrollment_status: str | None


class ProviderEventOut(Output):
    id: int
    external_id: str
    type: str
    outcome: str
    received_at: datetime


class PaymentDetailOut(PaymentOut):
    provider_events: list[ProviderEventOut]


class WebhookReceipt(Output):
    received: bool
    outcome: str


def payment_out(row: Any) -> PaymentOut:
    """A payment with its course, learner and enrollment, from a row of the payments query."""
    [payment] = outputs(PaymentOut, [row])
    return payment
