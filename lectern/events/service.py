"""Appending to the event log, inside the command's transaction."""

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.inflight import announce_writer
from lectern.models import Event
from lectern.models.base import utcnow
from lectern.models.enums import Audience

# Built once, on the table rather than the entity: the ORM's bulk-insert path and a fresh
# statement's cache key cost more than the insert itself on the hot path of every command.
_EVENTS = Event.metadata.tables["events"]
_APPEND = insert(_EVENTS).returning(_EVENTS.c.id)


async def record_event(
    session: AsyncSession,
    type: str,
    *,
    institution_id: int,
    audience: Audience,
    user_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Append one event; it becomes visible, and is announced, when the transaction commits."""
    await announce_writer(session)
    values = {
        "type": type,
        "institution_id": institution_id,
        "user_id": user_id,
        "audience": audience,
        "payload": payload or {},
        "created_at": utcnow(),
    }
    event_id: int = (await session.execute(_APPEND, values)).scalar_one()
    previous = session.info.get("last_event_id") or 0
    session.info["last_event_id"] = max(previous, event_id)
    return event_id
