"""A kind of integration for testing the delivery kernel: its destinations are inboxes in this
process that take or refuse batches as a test says."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.rules import LoggedEvent
from lectern.outbound.kinds import Accepted, OutboundKind, Paused, SendFailed
from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database


@dataclass
class Inbox:
    """One destination's receiving end."""

    received: list[int] = field(default_factory=list)
    refusals: int = 0  # the next this many batches are refused with a 503
    types: set[str] | None = None
    paused: list[Paused] = field(default_factory=list)


class Inboxes:
    def __init__(self) -> None:
        self.by_destination: dict[int, Inbox] = {}

    def kind(self, batch_size: int = 3, scan_limit: int = 1000) -> OutboundKind[Inbox]:
        async def load(_session: AsyncSession, destination_id: int) -> Inbox | None:
            return self.by_destination.get(destination_id)

        async def send(inbox: Inbox, events: list[LoggedEvent]) -> Accepted:
            if inbox.refusals:
                inbox.refusals -= 1
                raise SendFailed("503 Service Unavailable", http_status=503)
            inbox.received += [event.id for event in events]
            return Accepted(202)

        async def on_paused(_session: AsyncSession, inbox: Inbox, paused: Paused) -> None:
            inbox.paused.append(paused)

        return OutboundKind(
            name="test",
            load=load,
            send=send,
            event_types=lambda inbox: inbox.types,
            on_paused=on_paused,
            batch_size=batch_size,
            scan_limit=scan_limit,
        )


@pytest.fixture
def inboxes() -> Inboxes:
    return Inboxes()


def quick_settings(settings: Settings, **changes: Any) -> Settings:
    """Settings under which a destination is tried again soon and paused after three failures
    in a row (the webhook and xAPI tests use them too)."""
    return settings.model_copy(
        update={
            "outbound_first_retry_seconds": 10.0,
            "outbound_longest_wait_seconds": 60.0,
            "outbound_pause_after_failures": 3,
            **changes,
        }
    )


@pytest.fixture
def worker(db: Database, settings: Settings, inboxes: Inboxes) -> OutboundWorker[Inbox]:
    return OutboundWorker(db, quick_settings(settings), inboxes.kind(), jitter=lambda: 0.0)
