"""Reading verified Stripe bodies into facts, without a database."""

import json
from typing import Any

import pytest

from lectern.payments.stripe_events import (
    ProviderEvent,
    refund_facts,
    session_facts,
    verify_event,
)
from lectern.platform.errors import BadRequest
from tests.payments.stripe_events import charge_refunded, event, session_completed, signed

SECRET = "whsec_unit"
PAYMENT = {"id": 7, "checkout_id": "cs_7", "amount_cents": 4900, "currency": "usd"}


def _verify(body: dict[str, Any]) -> ProviderEvent:
    delivery = signed(body, SECRET)
    return verify_event(delivery["content"], delivery["headers"]["Stripe-Signature"], SECRET)


def test_a_completed_session_names_the_payment_and_the_money() -> None:
    facts = session_facts(_verify(session_completed(PAYMENT)))
    assert facts.payment_id == 7
    assert (facts.session_id, facts.payment_ref) == ("cs_7", "pi_7")
    assert (facts.amount_cents, facts.currency, facts.paid) == (4900, "usd", True)


def test_a_session_of_someone_else_names_no_payment() -> None:
    body = session_completed(PAYMENT)
    body["data"]["object"]["client_reference_id"] = "order-42"
    body["data"]["object"]["metadata"] = {}
    assert session_facts(_verify(body)).payment_id is None


def test_a_refund_names_its_payment_by_metadata_or_only_by_payment_intent() -> None:
    named = refund_facts(_verify(charge_refunded(PAYMENT)))
    assert (named.payment_id, named.payment_ref, named.fully_refunded) == (7, "pi_7", True)
    bare = refund_facts(_verify(charge_refunded(PAYMENT, with_metadata=False)))
    assert (bare.payment_id, bare.payment_ref) == (None, "pi_7")
    partial = refund_facts(_verify(charge_refunded(PAYMENT, fully=False)))
    assert (partial.fully_refunded, partial.amount_refunded) == (False, 2450)


@pytest.mark.parametrize(
    "body",
    [
        event("checkout.session.completed", {"id": "cs_1", "amount_total": 1.5}),
        event("checkout.session.completed", {"amount_total": 100}),
        event("charge.refunded", {"id": "ch_1", "payment_intent": 12}),
        {"type": "charge.refunded", "data": {"object": {}}},
        {"id": "evt_1", "type": "charge.refunded", "data": []},
    ],
)
def test_malformed_bodies_are_bad_requests(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        _verify(body)


def test_an_unsigned_body_is_a_bad_request() -> None:
    body = json.dumps(session_completed(PAYMENT)).encode()
    with pytest.raises(BadRequest) as caught:
        verify_event(body, "t=1,v1=00", SECRET)
    assert caught.value.slug == "webhook-signature"


@pytest.mark.parametrize("reference", ["0", "2147483648", "99999999999999999999", "٣", "-1"])
def test_references_that_cannot_be_a_payment_id_name_no_payment(reference: str) -> None:
    body = session_completed(PAYMENT)
    body["data"]["object"]["client_reference_id"] = reference
    body["data"]["object"]["metadata"] = {}
    assert session_facts(_verify(body)).payment_id is None


def test_ids_longer_than_their_columns_are_bad_requests() -> None:
    body = session_completed(PAYMENT)
    body["id"] = "evt_" + "x" * 300
    with pytest.raises(BadRequest):
        _verify(body)
