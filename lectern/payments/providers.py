"""Who takes the money: Stripe, or a local test provider that behaves like it.

Both speak Stripe's webhook format and signature scheme, so the one webhook endpoint and its
verification serve both.
"""

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from lectern.config import Settings
from lectern.models import Payment
from lectern.payments.stripe_events import PAYMENT_METADATA_KEY

TEST_CHECKOUT_PATH = "/pay/test/"


@dataclass(frozen=True, slots=True)
class CheckoutOrder:
    """What the provider needs to sell one course to one learner."""

    payment_id: int
    course_title: str
    amount_cents: int
    currency: str
    customer_email: str
    success_url: str
    cancel_url: str

    @property
    def idempotency_key(self) -> str:
        # One checkout per payment, however often creating it is retried.
        return f"lectern-checkout-{self.payment_id}"


@dataclass(frozen=True, slots=True)
class Checkout:
    id: str
    url: str


class ProviderError(Exception):
    """The provider could not be reached or refused the request."""


class PaymentProvider(Protocol):
    name: str
    webhook_secret: str

    async def create_checkout(self, order: CheckoutOrder) -> Checkout: ...


class StripeProvider:
    """Stripe Checkout Sessions through the official library."""

    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        *,
        api_base: str | None = None,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            http_client=http_client or stripe.HTTPXClient(),
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,
        )

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        reference = {PAYMENT_METADATA_KEY: str(order.payment_id)}
        params: Any = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency,
                        "unit_amount": order.amount_cents,
                        "product_data": {"name": order.course_title},
                    },
                }
            ],
            "client_reference_id": str(order.payment_id),
            "metadata": reference,
            # Carried to the charge so that a refund names the payment too.
            "payment_intent_data": {"metadata": reference},
            "customer_email": order.customer_email,
            "success_url": order.success_url,
            "cancel_url": order.cancel_url,
        }
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params, options={"idempotency_key": order.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        if not session.url:
            raise ProviderError("Stripe returned a checkout session without a URL.")
        return Checkout(id=session.id, url=session.url)


class TestProvider:
    """A provider for demos and machines without Stripe: Lectern shows the checkout page.

    Paying on that page makes Lectern post itself a signed Stripe-format webhook. Anyone who
    can open the page can pay, so it is never a way to take real money.
    """

    name = "test"
    __test__ = False  # not a pytest test class

    def __init__(self, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    async def create_checkout(self, order: CheckoutOrder) -> Checkout:
        # Derived from the idempotency key, so repeating the call gives the same checkout.
        digest = hmac.new(
            self.webhook_secret.encode(), order.idempotency_key.encode(), hashlib.sha256
        ).hexdigest()
        checkout_id = f"cs_test_{digest[:40]}"
        return Checkout(id=checkout_id, url=f"{TEST_CHECKOUT_PATH}{checkout_id}")

    def completed_event(self, payment: Payment) -> dict[str, Any]:
        """The `checkout.session.completed` event Stripe would send for this payment."""
        return _event(
            "checkout.session.completed",
            {
                "id": payment.checkout_id,
                "object": "checkout.session",
                "client_reference_id": str(payment.id),
                "metadata": {PAYMENT_METADATA_KEY: str(payment.id)},
                "amount_total": payment.amount_cents,
                "currency": payment.currency,
                "payment_status": "paid",
                "status": "complete",
                "payment_intent": payment.payment_ref or f"pi_test_{payment.id}",
            },
        )

    def refunded_event(self, payment: Payment) -> dict[str, Any]:
        """The `charge.refunded` event Stripe would send for a full refund of this payment."""
        return _event(
            "charge.refunded",
            {
                "id": f"ch_test_{payment.id}",
                "object": "charge",
                "amount": payment.amount_cents,
                "amount_refunded": payment.amount_cents,
                "currency": payment.currency,
                "refunded": True,
                "metadata": {PAYMENT_METADATA_KEY: str(payment.id)},
                "payment_intent": payment.payment_ref or f"pi_test_{payment.id}",
            },
        )

    def sign(self, event: dict[str, Any]) -> tuple[bytes, str]:
        """The raw body and its `Stripe-Signature` header, as Stripe would send them."""
        body = json.dumps(event, separators=(",", ":"))
        header = stripe.WebhookSignature.generate_signature_header(body, self.webhook_secret)
        return body.encode(), header


def _event(type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_test_{secrets.token_hex(12)}",
        "object": "event",
        "type": type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def provider_for(settings: Settings) -> PaymentProvider:
    if settings.payment_provider == "stripe":
        return StripeProvider(settings.stripe_secret_key, settings.stripe_webhook_secret)
    return TestProvider(settings.test_payment_webhook_secret)
