"""Subscribers of the event log: code of a higher layer that writes rows of its own in the
transaction that records certain event types (the mail outbox), without the command knowing.

A subscriber is a coroutine function of the command's session and of the recorded events of the
types it subscribed to, each as the row it becomes: `type`, `institution_id`, `user_id`,
`payload`. It runs just before the events are written, so what it writes commits or rolls back
with them.
"""

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.types import DomainEvent

Subscriber = Callable[[AsyncSession, list[dict[str, Any]]], Awaitable[None]]
_SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def subscribe(event_types: Iterable[type[DomainEvent]], subscriber: Subscriber) -> None:
    """Have `subscriber` see the recorded events of `event_types` (once, however often asked)."""
    for event_type in event_types:
        subscribers = _SUBSCRIBERS.setdefault(event_type.type, [])
        if subscriber not in subscribers:
            subscribers.append(subscriber)


def subscribed(recorded: list[dict[str, Any]]) -> bool:
    return any(event["type"] in _SUBSCRIBERS for event in recorded)


async def run_subscribers(session: AsyncSession, recorded: list[dict[str, Any]]) -> None:
    interested = dict.fromkeys(s for event in recorded for s in _SUBSCRIBERS.get(event["type"], ()))
    for subscriber in interested:
        await subscriber(
            session, [event for event in recorded if subscriber in _subscribers_of(event)]
        )


def _subscribers_of(event: dict[str, Any]) -> list[Subscriber]:
    return _SUBSCRIBERS.get(event["type"], [])
