"""Appending to the event log, inside the command's transaction.

A command records its events as it goes; they are written together, in the order recorded,
by one INSERT just before the transaction commits (or when `write_events` is awaited). They
are rows of the transaction either way, so they commit or roll back with it; one statement
instead of one per event is what keeps a command's round trips few.
"""

from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from lectern.events.inflight import announce_writer
from lectern.models import Event
from lectern.models.base import utcnow
from lectern.models.enums import Audience

_RECORDED = "recorded_events"

# Built once, on the table rather than the entity: the ORM's bulk-insert path and a fresh
# statement's cache key cost more than the insert itself on the hot path of every command.
_EVENTS = Event.metadata.tables["events"]
_APPEND = insert(_EVENTS).returning(_EVENTS.c.id)


def record_event(
    session: AsyncSession,
    type: str,
    *,
    institution_id: int,
    audience: Audience,
    user_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add an event to the transaction; it becomes visible, and is announced, on commit.
    (Commands use no savepoints: one rolled back would not take back what was recorded in it.)"""
    recorded: list[dict[str, Any]] = session.info.setdefault(_RECORDED, [])
    recorded.append(
        {
            "type": type,
            "institution_id": institution_id,
            "user_id": user_id,
            "audience": audience,
            "payload": payload or {},
            "created_at": utcnow(),
        }
    )


async def write_events(session: AsyncSession) -> list[int]:
    """Write the events recorded so far now rather than at commit; their ids."""
    return await session.run_sync(_write_recorded)


@event.listens_for(Session, "before_commit")
def _write_recorded(session: Session) -> list[int]:
    # Runs inside SQLAlchemy's greenlet when an AsyncSession commits, so it may execute.
    recorded: list[dict[str, Any]] = session.info.pop(_RECORDED, [])
    if not recorded:
        return []
    announce_writer(session)
    # One multi-row INSERT draws the ids in the order of its rows: sorted, they follow the record.
    ids = sorted(session.execute(_APPEND, recorded).scalars())
    session.info["last_event_id"] = max(session.info.get("last_event_id") or 0, *ids)
    return ids


@event.listens_for(Session, "after_rollback")
def _forget_recorded(session: Session) -> None:
    session.info.pop(_RECORDED, None)
