"""Taking a due row of a work queue on SQLite, which has no `FOR UPDATE SKIP LOCKED`.

A worker takes the row by moving its next attempt past the longest send, in a write of its own:
SQLite runs one write at a time, so of several workers on one file only the first finds the row
still due. A worker stopped mid-send moves it back; one that dies holds it until the lease ends.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.platform.db import Database

T = TypeVar("T")


async def while_leased(
    database: Database,
    row: Any,
    *,
    pending: str,
    now: datetime,
    lease: timedelta,
    send: Callable[[], Awaitable[T]],
) -> T | None:
    """`send()` while holding the due, pending `row` (a mapped object with `id`, `status` and
    `next_attempt_at`) for at most `lease`; None, unsent, when another worker holds it."""
    queued, row_id, due_at = type(row), row.id, row.next_attempt_at

    async def move(due_by: datetime, to: datetime) -> bool:
        return await database.run(
            lambda session: _move(session, queued, row_id, pending, due_by=due_by, to=to)
        )

    if not await move(now, now + lease):
        return None
    try:
        return await send()
    except asyncio.CancelledError:
        await move(now + lease, due_at)
        raise


async def _move(
    session: AsyncSession, queued: Any, row_id: int, pending: str, *, due_by: datetime, to: datetime
) -> bool:
    moved = await session.execute(
        update(queued)
        .where(queued.id == row_id, queued.status == pending, queued.next_attempt_at <= due_by)
        .values(next_attempt_at=to)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0))
