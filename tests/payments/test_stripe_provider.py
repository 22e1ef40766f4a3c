"""The Stripe provider against a fake Stripe API on localhost: no network calls to Stripe."""

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI

from lectern.payments.providers import StripeProvider
from lectern.platform.db import Database
from tests.payments.shop import WEBHOOK, Shop, enrollment_of, payment_row
from tests.payments.stripe_events import charge_refunded, session_completed, signed

WEBHOOK_SECRET = "whsec_fake_stripe"
# stripe-python's HTTPX client sends its form body as `data=`, which httpx deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


class FakeStripe(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    fail_with: int | None = None

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        FakeStripe.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
        if FakeStripe.fail_with:
            self._answer(
                FakeStripe.fail_with,
                {"error": {"type": "invalid_request_error", "message": "No such price"}},
            )
            return
        if self.path == "/v1/refunds":
            self._answer(200, {"id": "re_1", "object": "refund", "status": "succeeded"})
            return
        payment_id = form["client_reference_id"][0]
        self._answer(
            200,
            {
                "id": f"cs_fake_{payment_id}",
                "object": "checkout.session",
                "url": f"https://checkout.example/c/pay/cs_fake_{payment_id}",
                "client_reference_id": payment_id,
            },
        )

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture
async def stripe_app(app: FastAPI, fake_stripe: str) -> AsyncIterator[StripeProvider]:
    """The app with Stripe as its provider, for one test."""
    FakeStripe.requests, FakeStripe.fail_with = [], None
    previous = getattr(app.state, "payment_provider", None)
    provider = StripeProvider("sk_test_fake", WEBHOOK_SECRET, api_base=fake_stripe)
    app.state.payment_provider = provider
    yield provider
    app.state.payment_provider = previous


async def test_checkout_creates_a_stripe_session_naming_the_payment_once(
    shop: Shop, client: httpx.AsyncClient, db: Database, stripe_app: StripeProvider
) -> None:
    url = f"/api/v1/courses/{shop.course['id']}/checkout"
    r = await client.post(url, headers=shop.student.headers)
    assert r.status_code == 201, r.text
    payment_id = r.json()["payment_id"]
    assert r.json()["checkout_url"] == f"https://checkout.example/c/pay/cs_fake_{payment_id}"
    [call] = FakeStripe.requests
    assert call["path"] == "/v1/checkout/sessions"
    assert call["headers"]["Idempotency-Key"] == f"lectern-checkout-{payment_id}"
    assert call["headers"]["Authorization"] == "Bearer sk_test_fake"
    form = call["form"]
    assert form["client_reference_id"] == [str(payment_id)]
    assert form["metadata[lectern_payment_id]"] == [str(payment_id)]
    assert form["payment_intent_data[metadata][lectern_payment_id]"] == [str(payment_id)]
    assert form["line_items[0][price_data][unit_amount]"] == ["4900"]
    assert form["line_items[0][price_data][currency]"] == ["usd"]
    assert form["customer_email"] == [shop.student.email]
    assert form["mode"] == ["payment"]
    row = await payment_row(db, payment_id)
    assert (row.provider, row.checkout_id) == ("stripe", f"cs_fake_{payment_id}")

    again = await client.post(url, headers=shop.student.headers)
    assert again.json() == r.json()
    assert len(FakeStripe.requests) == 1


async def test_stripe_events_are_verified_with_the_stripe_secret(
    shop: Shop, client: httpx.AsyncClient, db: Database, stripe_app: StripeProvider, settings: Any
) -> None:
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    payment = await payment_row(db, r.json()["payment_id"])
    as_api = {
        "id": payment.id,
        "checkout_id": payment.checkout_id,
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
    }
    completed = session_completed(as_api)
    r = await client.post(WEBHOOK, **signed(completed, settings.test_payment_webhook_secret))
    assert r.status_code == 400
    r = await client.post(WEBHOOK, **signed(completed, WEBHOOK_SECRET))
    assert r.json()["outcome"] == "completed"
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert enrollment.source == "payment"


async def test_a_stripe_refusal_answers_502_and_leaves_the_payment_to_retry(
    shop: Shop, client: httpx.AsyncClient, db: Database, stripe_app: StripeProvider
) -> None:
    FakeStripe.fail_with = 400
    url = f"/api/v1/courses/{shop.course['id']}/checkout"
    r = await client.post(url, headers=shop.student.headers)
    assert r.status_code == 502, r.text
    assert r.json()["type"].endswith("payment-provider-unavailable")
    FakeStripe.fail_with = None
    r = await client.post(url, headers=shop.student.headers)
    assert r.status_code == 200, r.text
    assert r.json()["checkout_url"].startswith("https://checkout.example/")
    assert {c["headers"]["Idempotency-Key"] for c in FakeStripe.requests} == {
        f"lectern-checkout-{r.json()['payment_id']}"
    }


async def test_an_admin_refund_asks_stripe_once_and_waits_for_its_webhook(
    shop: Shop, client: httpx.AsyncClient, db: Database, stripe_app: StripeProvider
) -> None:
    r = await client.post(
        f"/api/v1/courses/{shop.course['id']}/checkout", headers=shop.student.headers
    )
    payment = await payment_row(db, r.json()["payment_id"])
    as_api = {
        "id": payment.id,
        "checkout_id": payment.checkout_id,
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
    }
    await client.post(WEBHOOK, **signed(session_completed(as_api), WEBHOOK_SECRET))
    url = f"/api/v1/admin/payments/{payment.id}/refund"
    for _ in range(2):
        r = await client.post(url, headers=shop.admin.headers)
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "completed"
    refunds = [c for c in FakeStripe.requests if c["path"] == "/v1/refunds"]
    assert {c["headers"]["Idempotency-Key"] for c in refunds} == {f"lectern-refund-{payment.id}"}
    assert refunds[0]["form"]["payment_intent"] == [f"pi_{payment.id}"]
    r = await client.post(WEBHOOK, **signed(charge_refunded(as_api), WEBHOOK_SECRET))
    assert r.json()["outcome"] == "refunded"
    enrollment = await enrollment_of(db, shop.student.id, shop.course["id"])
    assert enrollment is not None
    assert enrollment.status == "cancelled"
