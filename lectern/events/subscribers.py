"""Subscribers of the event log: code of a higher layer that writes rows of its own in the
transaction that records certain event types (the mail outbox), without the command knowing.

A subscriber is a plain function of the synchronous session (write_events runs it in
SQLAlchemy's greenlet) and of the recorded events of the types it subscribed to, each as the row
it becomes: `type`, `institution_id`, `user_id`, `payload`. It runs just before the events are
written, so what it writes commits or rolls back with them.
"""

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from lectern.events.types import DomainEvent

Subscriber = Callable[[Session, list[dict[str, Any]]], None]
_SUBSCRIBERS: dict[str, list[Subscriber]] = {}


def subscribe(event_types: Iterable[type[DomainEvent]], subscriber: Subscriber) -> None:
    """Have `subscriber` see the recorded events of `event_types` (once, however often asked)."""
    for event_type in event_types:
        subscribers = _SUBSCRIBERS.setdefault(event_type.type, [])
        if subscriber not in subscribers:
            subscribers.append(subscriber)


def subscribed(recorded: list[dict[str, Any]]) -> bool:
    return any(event["type"] in _SUBSCRIBERS for event in recorded)


def run_subscribers(session: Session, recorded: list[dict[str, Any]]) -> None:
    interested = dict.fromkeys(s for event in recorded for s in _SUBSCRIBERS.get(event["type"], ()))
    for subscriber in interested:
        subscriber(session, [event for event in recorded if subscriber in _subscribers_of(event)])


def _subscribers_of(event: dict[str, Any]) -> list[Subscriber]:
    return _SUBSCRIBERS.get(event["type"], [])
