"""Stripe webhook bodies: verified on the raw bytes, then read into the facts Lectern acts on."""

from dataclasses import dataclass
from typing import Any

import stripe

from lectern.platform.errors import BadRequest
from lectern.platform.schemas import MAX_ID

SIGNATURE_TOLERANCE_SECONDS = 300
PAYMENT_METADATA_KEY = "lectern_payment_id"
# The columns ids are kept in; Stripe's own ids are far shorter.
MAX_ID_LENGTH = 255

COMPLETED_TYPES = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
FAILED_TYPES = {"checkout.session.expired", "checkout.session.async_payment_failed"}
REFUNDED_TYPES = {"charge.refunded"}
HANDLED_TYPES = COMPLETED_TYPES | FAILED_TYPES | REFUNDED_TYPES


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    id: str
    type: str
    body: dict[str, Any]

    @property
    def object(self) -> dict[str, Any]:
        data: dict[str, Any] = self.body["data"]["object"]
        return data


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What a Checkout Session event says about one of Lectern's payments."""

    payment_id: int | None
    session_id: str
    payment_ref: str | None
    amount_cents: int | None
    currency: str | None
    paid: bool


@dataclass(frozen=True, slots=True)
class RefundFacts:
    payment_id: int | None
    payment_ref: str | None
    fully_refunded: bool
    amount_refunded: int


def verify_event(raw_body: bytes, signature: str | None, secret: str) -> ProviderEvent:
    """The event, if the signature over the raw body is valid and recent; else BadRequest."""
    try:
        event = stripe.Webhook.construct_event(
            raw_body, signature, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise BadRequest(
            f"The webhook signature is not valid: {exc.user_message or exc}",
            slug="webhook-signature",
        ) from exc
    except (ValueError, AttributeError, TypeError) as exc:
        raise BadRequest(
            "The webhook body is not a Stripe event.", slug="webhook-malformed"
        ) from exc
    body = event.to_dict()
    try:
        parsed = ProviderEvent(id=_text(body, "id"), type=_text(body, "type"), body=body)
        if not isinstance(body.get("data"), dict) or not isinstance(
            parsed.body["data"].get("object"), dict
        ):
            raise ValueError("data.object must be an object")
        if parsed.type in COMPLETED_TYPES | FAILED_TYPES:
            session_facts(parsed)
        elif parsed.type in REFUNDED_TYPES:
            refund_facts(parsed)
    except ValueError as exc:
        raise BadRequest(f"The webhook body is malformed: {exc}", slug="webhook-malformed") from exc
    return parsed


def session_facts(event: ProviderEvent) -> SessionFacts:
    session = event.object
    reference = session.get("client_reference_id") or _metadata(session).get(PAYMENT_METADATA_KEY)
    return SessionFacts(
        payment_id=_payment_id(reference),
        session_id=_text(session, "id"),
        payment_ref=_optional_text(session, "payment_intent"),
        amount_cents=_optional_int(session, "amount_total"),
        currency=_optional_text(session, "currency"),
        paid=session.get("payment_status") in ("paid", "no_payment_required"),
    )


def refund_facts(event: ProviderEvent) -> RefundFacts:
    charge = event.object
    return RefundFacts(
        payment_id=_payment_id(_metadata(charge).get(PAYMENT_METADATA_KEY)),
        payment_ref=_optional_text(charge, "payment_intent"),
        fully_refunded=charge.get("refunded") is True,
        amount_refunded=_optional_int(charge, "amount_refunded") or 0,
    )


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _payment_id(reference: object) -> int | None:
    """Lectern's payment id from a reference it set; anything else is someone else's."""
    if isinstance(reference, str) and reference.isascii() and reference.isdigit():
        number = int(reference)
        return number if 1 <= number <= MAX_ID else None
    return None


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_LENGTH:
        raise ValueError(f"{key} must be a string of 1 to {MAX_ID_LENGTH} characters")
    return value


def _optional_text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, dict):  # an expanded object
        return _text(value, "id")
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{key} must be a string of at most {MAX_ID_LENGTH} characters")
    return value


def _optional_int(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    return value
