"""The JSON every kind of destination's admin API shares: a replay's start and the record of
delivery attempts."""

from datetime import datetime

from pydantic import Field

from lectern.platform.schemas import MAX_EVENT_ID, Input, Output


class ReplayIn(Input):
    from_event_id: int = Field(ge=1, le=MAX_EVENT_ID)


class DeliveryOut(Output):
    id: int
    status: str
    http_status: int | None
    attempt: int
    response_ms: int
    error: str | None
    first_event_id: int
    last_event_id: int
    events: int
    created_at: datetime
