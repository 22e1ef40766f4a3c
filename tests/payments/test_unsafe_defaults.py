"""The test payment provider takes no money: the server says so at every start, and a
production configuration refuses it, and the other defaults only a developer's machine can
live with."""

import logging
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from lectern.app import create_app
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.conftest import make_settings
from tests.payments.shop import WEBHOOK, Shop, counts, payment_row, start_checkout
from tests.payments.stripe_events import session_completed, signed

# The test provider's signing secret before it was made random: public, in the README.
FORMER_PUBLIC_SECRET = "whsec_lectern_test_provider"

STRIPE = {
    "payment_provider": "stripe",
    "stripe_secret_key": "sk_test_lectern",
    "stripe_webhook_secret": "whsec_lectern",
}
SAFE_PRODUCTION: dict[str, Any] = {
    "environment": "production",
    **STRIPE,
    "public_url": "https://learn.example.org",
    "cookie_secure": True,
}


def _free_payment_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "without money" in record.getMessage()
    ]


async def _start_and_stop(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


async def test_the_server_warns_once_at_start_that_test_payments_take_no_money(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url)
    assert settings.payment_provider == "test"
    with caplog.at_level(logging.WARNING):
        await _start_and_stop(settings)
    [warning] = _free_payment_warnings(caplog)
    assert "LECTERN_PAYMENT_PROVIDER=test" in warning.getMessage()
    assert "anyone with an account" in warning.getMessage()


async def test_the_server_does_not_warn_with_stripe(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url).model_copy(update=STRIPE)
    with caplog.at_level(logging.WARNING):
        await _start_and_stop(settings)
    assert _free_payment_warnings(caplog) == []


async def test_a_webhook_signed_with_the_once_public_secret_pays_nothing(
    shop: Shop, client: httpx.AsyncClient, db: Database
) -> None:
    payment = await start_checkout(client, shop)
    before = await counts(db)

    r = await client.post(WEBHOOK, **signed(session_completed(payment), FORMER_PUBLIC_SECRET))

    assert r.status_code == 400
    assert await counts(db) == before
    assert (await payment_row(db, payment["id"])).status == "pending"


def test_each_process_signs_test_webhooks_with_a_secret_of_its_own() -> None:
    first, second = Settings(), Settings()
    assert first.test_payment_webhook_secret != second.test_payment_webhook_secret
    assert first.test_payment_webhook_secret.startswith("whsec_")
    assert len(first.test_payment_webhook_secret) > 40


def test_development_is_the_default_and_allows_the_test_provider() -> None:
    settings = Settings()
    assert (settings.environment, settings.payment_provider) == ("development", "test")


def test_production_refuses_the_test_payment_provider() -> None:
    with pytest.raises(ValidationError, match="refuses LECTERN_PAYMENT_PROVIDER=test"):
        Settings(**{**SAFE_PRODUCTION, "payment_provider": "test"})


def test_production_is_read_from_lectern_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTERN_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="refuses LECTERN_PAYMENT_PROVIDER=test"):
        Settings()


def test_production_needs_a_public_url() -> None:
    with pytest.raises(ValidationError, match="needs LECTERN_PUBLIC_URL"):
        Settings(**{**SAFE_PRODUCTION, "public_url": None})


def test_production_behind_https_needs_secure_cookies() -> None:
    with pytest.raises(ValidationError, match="needs LECTERN_COOKIE_SECURE=true"):
        Settings(**{**SAFE_PRODUCTION, "cookie_secure": False})


def test_production_with_its_safeguards_starts() -> None:
    settings = Settings(**SAFE_PRODUCTION)
    assert settings.environment == "production"
    # Plain http (a private network) cannot carry secure cookies, so it does not ask for them.
    assert Settings(**{**SAFE_PRODUCTION, "public_url": "http://lms.internal:8000"})


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError, match="environment"):
        Settings(environment="staging")
