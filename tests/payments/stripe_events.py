"""Stripe events as Stripe sends them, signed t=...,v1=HMAC-SHA256(secret, "t.body")."""

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

_ids = itertools.count(1)


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed(event: dict[str, Any], secret: str, timestamp: int | None = None) -> dict[str, Any]:
    """Keyword arguments for httpx's post: the raw body and its Stripe-Signature header."""
    body = json.dumps(event).encode()
    return {
        "content": body,
        "headers": {
            "Stripe-Signature": signature_header(body, secret, timestamp),
            "Content-Type": "application/json",
        },
    }


def event(type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_t{next(_ids)}_{time.time_ns()}",
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def session_completed(
    payment: dict[str, Any],
    *,
    amount: int | None = None,
    currency: str | None = None,
    payment_intent: str | None = None,
    event_id: str | None = None,
    type: str = "checkout.session.completed",
    payment_status: str = "paid",
) -> dict[str, Any]:
    """The completion of a payment as the API shows it (id, checkout_id, amount, currency)."""
    return event(
        type,
        {
            "id": payment["checkout_id"],
            "object": "checkout.session",
            "client_reference_id": str(payment["id"]),
            "metadata": {"lectern_payment_id": str(payment["id"])},
            "amount_total": payment["amount_cents"] if amount is None else amount,
            "currency": currency or payment["currency"],
            "payment_status": payment_status,
            "payment_intent": payment_intent or f"pi_{payment['id']}",
        },
        event_id,
    )


def charge_refunded(
    payment: dict[str, Any],
    *,
    with_metadata: bool = True,
    payment_intent: str | None = None,
    fully: bool = True,
    event_id: str | None = None,
) -> dict[str, Any]:
    amount = payment["amount_cents"]
    return event(
        "charge.refunded",
        {
            "id": f"ch_{payment['id']}",
            "object": "charge",
            "amount": amount,
            "amount_refunded": amount if fully else amount // 2,
            "currency": payment["currency"],
            "refunded": fully,
            "metadata": {"lectern_payment_id": str(payment["id"])} if with_metadata else {},
            "payment_intent": payment_intent or f"pi_{payment['id']}",
        },
        event_id,
    )
