"""How a payment moves between states, and when money received does not buy the course."""

from enum import StrEnum

from lectern.models.enums import PaymentStatus


class PaymentAction(StrEnum):
    COMPLETE = "complete"
    REFUND = "refund"
    FLAG = "flag"
    FAIL = "fail"


# A missing pair is no transition: a repeat, or an event that arrived after a later one
# (a completion after the refund stays refunded).
TRANSITIONS: dict[tuple[PaymentStatus, PaymentAction], PaymentStatus] = {
    (PaymentStatus.PENDING, PaymentAction.COMPLETE): PaymentStatus.COMPLETED,
    # The checkout was given up (expired, replaced) but the learner paid on it anyway.
    (PaymentStatus.FAILED, PaymentAction.COMPLETE): PaymentStatus.COMPLETED,
    (PaymentStatus.PENDING, PaymentAction.FLAG): PaymentStatus.FLAGGED,
    (PaymentStatus.FAILED, PaymentAction.FLAG): PaymentStatus.FLAGGED,
    (PaymentStatus.PENDING, PaymentAction.REFUND): PaymentStatus.REFUNDED,
    (PaymentStatus.COMPLETED, PaymentAction.REFUND): PaymentStatus.REFUNDED,
    (PaymentStatus.FLAGGED, PaymentAction.REFUND): PaymentStatus.REFUNDED,
    (PaymentStatus.FAILED, PaymentAction.REFUND): PaymentStatus.REFUNDED,
    (PaymentStatus.PENDING, PaymentAction.FAIL): PaymentStatus.FAILED,
}


def next_status(current: str, action: PaymentAction) -> PaymentStatus | None:
    """The status `action` moves a payment to, or None when it changes nothing."""
    return TRANSITIONS.get((PaymentStatus(current), action))


def amount_mismatch(
    *, expected_cents: int, expected_currency: str, paid_cents: int, paid_currency: str
) -> str | None:
    """Why the money received does not pay for the course, or None when it does."""
    if paid_currency.casefold() != expected_currency.casefold():
        return f"paid in {paid_currency.upper()}, the course costs {expected_currency.upper()}"
    if paid_cents != expected_cents:
        return f"paid {paid_cents} cents, the course costs {expected_cents} cents"
    return None


def price_changed(
    *, payment_cents: int, payment_currency: str, price_cents: int, price_currency: str
) -> bool:
    """A pending checkout quotes an old price and must not be offered again."""
    return payment_cents != price_cents or payment_currency.casefold() != price_currency.casefold()
