from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from lectern.platform.config import Settings
from tests.factories import World
from tests.payments.shop import PRICE, WEBHOOK, Shop
from tests.payments.stripe_events import signed

Deliver = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def shop(world: World) -> Shop:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    course = await world.course(admin, access="paid", price_cents=PRICE, currency="usd")
    return Shop(admin, student, course)


@pytest.fixture
def deliver(client: httpx.AsyncClient, settings: Settings) -> Deliver:
    """Post a Stripe event to the webhook, signed with the test provider's secret."""

    async def post(
        event: dict[str, Any], *, secret: str | None = None, timestamp: int | None = None
    ) -> httpx.Response:
        secret = secret or settings.test_payment_webhook_secret
        return await client.post(WEBHOOK, **signed(event, secret, timestamp))

    return post
