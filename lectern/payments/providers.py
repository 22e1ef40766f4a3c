"""Who takes the money: Stripe, or a local test provider that behaves like it.

Both speak Stripe's webhook format and signature scheme, so the one webhook endpoint and its
verification serve both.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import stripe

from lectern.models import Payment
from lectern.payments.stripe_events import PAYMENT_METADATA_KEY
from lectern.platform.config import Settings

log = logging.getLogger(__name__)
TEST_CHECKOUT_PATH = "/pay/test/"
# Takes a signed webhook (raw body, Stripe-Signature header) to Lectern's endpoint.
WebhookSink = Callable[[bytes, str], Awaitable[None]]


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


@dataclass(frozen=True, slots=True)
class RefundOrder:
    """A full refund of the money a completed payment received."""

    payment_id: int
    payment_ref: str
    amount_cents: int
    currency: str

    @property
    def idempotency_key(self) -> str:
        return f"lectern-refund-{self.payment_id}"


class ProviderError(Exception):
    """The provider could not be reached or refused the request."""


class PaymentProvider(Protocol):
    name: str
    webhook_secret: str

    async def create_checkout(self, order: CheckoutOrder) -> Checkout: ...

    async def refund(self, order: RefundOrder) -> None:
        """Ask for the money back; the provider's `charge.refunded` webhook records it."""


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

    async def refund(self, order: RefundOrder) -> None:
        params: Any = {
            "payment_intent": order.payment_ref,
            "metadata": {PAYMENT_METADATA_KEY: str(order.payment_id)},
        }
        try:
            await self.client.v1.refunds.create_async(
                params, options={"idempotency_key": order.idempotency_key}
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc


class TestProvider:
    """A provider for demos and machines without Stripe: Lectern shows the checkout page.

    Paying on that page makes Lectern post itself a signed Stripe-format webhook. Any learner
    can pay for their own checkout, so it is never a way to take real money.
    """

    name = "test"
    __test__ = False  # not a pytest test class

    def __init__(self, webhook_secret: str, deliver: WebhookSink | None = None) -> None:
        self.webhook_secret = webhook_secret
        self.deliver = deliver

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

    async def pay(self, payment: Payment) -> None:
        """What Stripe does when the learner pays: tell Lectern, by a signed webhook."""
        await self.send(self.completed_event(payment))

    async def refund(self, order: RefundOrder) -> None:
        await self.send(
            _event(
                "charge.refunded",
                {
                    "id": f"ch_test_{order.payment_id}",
                    "object": "charge",
                    "amount": order.amount_cents,
                    "amount_refunded": order.amount_cents,
                    "currency": order.currency,
                    "refunded": True,
                    "metadata": {PAYMENT_METADATA_KEY: str(order.payment_id)},
                    "payment_intent": order.payment_ref,
                },
            )
        )

    async def send(self, event: dict[str, Any]) -> None:
        if self.deliver is None:
            raise ProviderError("The test provider has nowhere to send its webhooks.")
        await self.deliver(*self.sign(event))

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


def warn_if_payments_are_free(settings: Settings) -> None:
    """Say at start that the test provider takes no money: a default nobody should miss."""
    if settings.payment_provider == TestProvider.name:
        log.warning(
            "LECTERN_PAYMENT_PROVIDER=test: anyone with an account can pay for a course without "
            "money. Set LECTERN_PAYMENT_PROVIDER=stripe to sell courses."
        )


def provider_for(settings: Settings, deliver: WebhookSink | None = None) -> PaymentProvider:
    """The configured provider; `deliver` is where the test provider sends its webhooks."""
    if settings.payment_provider == "stripe":
        return StripeProvider(settings.stripe_secret_key, settings.stripe_webhook_secret)
    return TestProvider(settings.test_payment_webhook_secret, deliver)
