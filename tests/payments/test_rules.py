"""The payment state machine and the price check, without a database."""

import itertools

import pytest

from lectern.models.enums import PaymentStatus
from lectern.payments.rules import PaymentAction, amount_mismatch, next_status, price_changed

P = PaymentStatus


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        (P.PENDING, PaymentAction.COMPLETE, P.COMPLETED),
        (P.COMPLETED, PaymentAction.COMPLETE, None),
        (P.REFUNDED, PaymentAction.COMPLETE, None),
        (P.FLAGGED, PaymentAction.COMPLETE, None),
        (P.FAILED, PaymentAction.COMPLETE, P.COMPLETED),
        (P.PENDING, PaymentAction.REFUND, P.REFUNDED),
        (P.COMPLETED, PaymentAction.REFUND, P.REFUNDED),
        (P.FLAGGED, PaymentAction.REFUND, P.REFUNDED),
        (P.REFUNDED, PaymentAction.REFUND, None),
        (P.PENDING, PaymentAction.FLAG, P.FLAGGED),
        (P.COMPLETED, PaymentAction.FLAG, None),
        (P.PENDING, PaymentAction.FAIL, P.FAILED),
        (P.COMPLETED, PaymentAction.FAIL, None),
    ],
)
def test_each_transition(current: P, action: PaymentAction, expected: P | None) -> None:
    assert next_status(current, action) == expected


def test_refunded_is_final_whatever_arrives_after_it() -> None:
    for action in PaymentAction:
        assert next_status(P.REFUNDED, action) is None


def test_completion_and_refund_in_either_order_end_refunded() -> None:
    for order in itertools.permutations([PaymentAction.COMPLETE, PaymentAction.REFUND]):
        status = P.PENDING
        for action in order:
            status = next_status(status, action) or status
        assert status == P.REFUNDED


def test_every_action_repeated_changes_nothing_the_second_time() -> None:
    for status, action in itertools.product(P, PaymentAction):
        after = next_status(status, action)
        if after is not None:
            assert next_status(after, action) is None, (status, action)


def test_amount_and_currency_must_match_the_price() -> None:
    def check(cents: int, currency: str) -> str | None:
        return amount_mismatch(
            expected_cents=4900, expected_currency="usd", paid_cents=cents, paid_currency=currency
        )

    assert check(4900, "usd") is None
    assert check(4900, "USD") is None
    assert check(4899, "usd") == "paid 4899 cents, the course costs 4900 cents"
    assert check(4900, "eur") == "paid in EUR, the course costs USD"


def test_a_new_price_or_currency_retires_a_pending_checkout() -> None:
    assert not price_changed(
        payment_cents=100, payment_currency="usd", price_cents=100, price_currency="USD"
    )
    assert price_changed(
        payment_cents=100, payment_currency="usd", price_cents=200, price_currency="usd"
    )
    assert price_changed(
        payment_cents=100, payment_currency="usd", price_cents=100, price_currency="eur"
    )
