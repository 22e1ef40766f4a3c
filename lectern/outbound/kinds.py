"""What an integration gives outbound delivery: `OutboundKind` (see lectern.outbound)."""

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.rules import LoggedEvent

Target = TypeVar("Target")


@dataclass(frozen=True)
class Accepted:
    """The destination took the batch, or (`through`, an event id of the batch) its events up
    to that one: the rest goes in the next attempt."""

    http_status: int | None = None
    through: int | None = None


class SendFailed(Exception):
    """The destination did not take the batch: it answered `http_status`, or not at all."""

    def __init__(self, error: str, *, http_status: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.http_status = http_status


@dataclass(frozen=True)
class Paused:
    """A destination that has just been paused: the integration tells its admins."""

    destination_id: int
    institution_id: int
    failures: int
    error: str


def every_event(_target: object, _event: LoggedEvent) -> bool:
    return True


def any_type(_target: object) -> Collection[str] | None:
    return None


@dataclass(frozen=True)
class OutboundKind(Generic[Target]):
    """An integration that sends the event log somewhere (`name`: "webhook", "xapi").

    - `load(session, destination_id)`: what sending needs of that destination (its URL, its
      credentials), as plain data; None if it is gone.
    - `send(target, events)`: deliver the events, in id order, each carrying its id as the
      stable message id that the receiver dedupes on; return `Accepted` (of all of them, or of
      the first ones), or raise `SendFailed` if it took none (any other exception counts as a
      failure too, with its text as the error).
    - `select(target, event)`: whether the destination takes this event (events of other
      institutions never reach it, whatever this says).
    - `event_types(target)`: the only event types it can take, or None; narrows the read.
    - `on_paused(session, target, paused)`: runs in the transaction that pauses the destination;
      the integration tells its institution's admins (the mail outbox).
    """

    name: str
    load: Callable[[AsyncSession, int], Awaitable[Target | None]]
    send: Callable[[Target, list[LoggedEvent]], Awaitable[Accepted]]
    select: Callable[[Target, LoggedEvent], bool] = every_event
    event_types: Callable[[Target], Collection[str] | None] = any_type
    on_paused: Callable[[AsyncSession, Target, Paused], Awaitable[None]] | None = None
    # Events per attempt; 1 when the destination takes one message per request.
    batch_size: int = 50
    # Events read per look for the destination's next batch (those it does not take are passed).
    scan_limit: int = 1000
