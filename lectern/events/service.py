"""Appending to the event log, inside the command's transaction.

A command records its events as it goes; they are written together, in the order recorded,
by one INSERT when `write_events` is awaited (Database.run does just before it commits), or by
the session's before-commit hook for a session committed otherwise. They are rows of the
transaction either way, so they commit or roll back with it; one statement instead of one per
event is what keeps a command's round trips few.
"""

from functools import cache
from typing import Any

from sqlalchemy import bindparam, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from lectern.events.inflight import announce, announce_writer
from lectern.events.types import DomainEvent
from lectern.models import Event
from lectern.models.base import utcnow
from lectern.platform.prepared import Prepared

_RECORDED = "recorded_events"

# Built once, on the table rather than the entity: the ORM's bulk-insert path and a fresh
# statement's cache key cost more than the insert itself on the hot path of every command.
_EVENTS = Event.metadata.tables["events"]
_APPEND = insert(_EVENTS).returning(_EVENTS.c.id)
_COLUMNS = ("type", "institution_id", "user_id", "audience", "payload", "created_at")
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
    recorded: list[dict[str, Any]] = session.info.setdefault(_RECORDED, [])
    recorded.append(
        {
            "type": event.type,
            "institution_id": institution_id,
            "user_id": user_id,
            "audience": event.audience_for(user_id),
            "payload": event.payload(),
            "created_at": utcnow(),
        }
    )


async def write_events(session: AsyncSession) -> list[int]:
    """Write the events recorded so far now rather than at commit; their ids."""
    recorded: list[dict[str, Any]] = session.info.get(_RECORDED, [])
    if len(recorded) > _PREPARED_ROWS:
        return await session.run_sync(_write_recorded)
    session.info.pop(_RECORDED, None)
    if not recorded:
        return []
    await announce(session)
    values: dict[str, Any] = {
        f"{name}_{n}": event[name] for n, event in enumerate(recorded) for name in _COLUMNS
    }
    rows = await _append(len(recorded)).all(session, values)
    return _drawn(session, [row.id for row in rows])


@event.listens_for(Session, "before_commit")
def _write_recorded(session: Session) -> list[int]:
    # Runs inside SQLAlchemy's greenlet when an AsyncSession commits, so it may execute.
    recorded: list[dict[str, Any]] = session.info.pop(_RECORDED, [])
    if not recorded:
        return []
    announce_writer(session)
    return _drawn(session, list(session.execute(_APPEND, recorded).scalars()))


def _drawn(session: AsyncSession | Session, ids: list[int]) -> list[int]:
    # One multi-row INSERT draws the ids in the order of its rows: sorted, they follow the record.
    ids.sort()
    session.info["last_event_id"] = max(session.info.get("last_event_id") or 0, *ids)
    return ids


@event.listens_for(Session, "after_rollback")
def _forget_recorded(session: Session) -> None:
    session.info.pop(_RECORDED, None)
