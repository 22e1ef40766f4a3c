"""The JSON of the webhooks admin API."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from lectern.platform.schemas import Input, Output

Url = Annotated[str, Field(min_length=1, max_length=2000)]
EventType = Annotated[str, Field(min_length=1, max_length=64)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=200)]


class SubscriptionIn(Input):
    url: Url
    event_types: EventTypes
    description: Description = ""


class SubscriptionPatch(Input):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None


class SubscriptionOut(Output):
    id: int
    url: str
    description: str
    event_types: list[str]
    # active, or paused after failing too many times in a row (resume it)
    status: str
    delivered_through: int = Field(description="Every event up to this id was delivered.")
    consecutive_failures: int
    next_attempt_at: datetime
    last_error: str | None
    paused_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="whsec_…: receivers verify the webhook-signature with it.")
    previous_secret_until: datetime | None = Field(
        description="Until then the secret before the last rotation signs too."
    )


class ConnectionOut(Output):
    ok: bool
    http_status: int | None
    response_ms: int
    error: str | None


class EventTypeOut(Output):
    type: str
    audience: str
