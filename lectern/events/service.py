"""Appending to the event log, inside the command's transaction.

A command records its events on its Transaction as it goes; they are written together, in the
order recorded, by one INSERT when `write_events` is awaited, which every transaction does just
before it commits (registered with the platform's `before_every_commit`). They are rows of the
transaction either way, so they commit or roll back with it; one statement instead of one per
event is what keeps a command's round trips few.
"""

from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.inflight import announce
from lectern.events.subscribers import run_subscribers, subscribed
from lectern.events.types import DomainEvent
from lectern.models import Event
from lectern.models.base import utcnow
from lectern.platform.prepared import Prepared
from lectern.platform.transaction import Transaction, before_every_commit, transaction_of

# Built once, on the table rather than the entity: the ORM's bulk-insert path and a fresh
# statement's cache key cost more than the insert itself on the hot path of every command.
_EVENTS = Event.metadata.tables["events"]
_APPEND = insert(_EVENTS).returning(_EVENTS.c.id)
_COLUMNS = ("type", "institution_id", "user_id", "course_id", "audience", "payload", "created_at")
# Commands record a few events each; past this many, SQLAlchemy's batched insert does better.
_PREPARED_ROWS = 8


@cache
def _append(rows: int) -> Prepared:
    """The INSERT of `rows` events in one statement, each row's values named `<column>_<n>`."""
    values: list[dict[str, Any]] = [
        {name: bindparam(f"{name}_{n}", type_=_EVENTS.c[name].type) for name in _COLUMNS}
        for n in range(rows)
    ]
    return Prepared(insert(_EVENTS).values(values).returning(_EVENTS.c.id))


def record_event(
    session: AsyncSession,
    event: DomainEvent,
    *,
    institution_id: int,
    user_id: int | None = None,
) -> None:
    """Add an event of the catalogue (lectern.events.types) to the transaction, about the
    learner `user_id` if any; it becomes visible, and is announced, on commit.
    (Commands use no savepoints: one rolled back would not take back what was recorded in it.)"""
    transaction_of(session).events.append(
        {
            "type": event.type,
            "institution_id": institution_id,
            "user_id": user_id,
            "course_id": event.course(),
            "audience": event.audience_for(user_id),
            "payload": event.payload(),
            "created_at": utcnow(),
        }
    )


@before_every_commit
async def write_events(session: AsyncSession) -> list[int]:
    """Write the events recorded so far now rather than at commit; their ids."""
    transaction = transaction_of(session)
    recorded, transaction.events = transaction.events, []
    if not recorded:
        return []
    if subscribed(recorded):
        await run_subscribers(session, recorded)
    await announce(session)
    if len(recorded) > _PREPARED_ROWS:
        return _drawn(transaction, list((await session.execute(_APPEND, recorded)).scalars()))
    values: dict[str, Any] = {
        f"{name}_{n}": event[name] for n, event in enumerate(recorded) for name in _COLUMNS
    }
    rows = await _append(len(recorded)).all(session, values)
    return _drawn(transaction, [row.id for row in rows])


def _drawn(transaction: Transaction, ids: list[int]) -> list[int]:
    # One multi-row INSERT draws the ids in the order of its rows: sorted, they follow the record.
    ids.sort()
    transaction.last_event_id = max(transaction.last_event_id or 0, *ids)
    return ids
