"""One pump per process: it reads newly committed events and fans them out to local streams.

Order without gaps. Event ids come from a sequence, so a transaction can take id 10, another
id 11, and the second commit first. A reader that follows `id > cursor` would then advance
past 10 and never see it; one that waits for gaps to fill cannot tell a slow transaction from
a rolled-back one (which leaves a gap forever) except by a timeout, which is a guess.

So each event row records the transaction that inserted it (`xact_id`, PostgreSQL's 64-bit
`pg_current_xact_id()`), and readers follow the log in `(xact_id, id)` order, taking only rows
whose transaction is below the snapshot's xmin (`pg_snapshot_xmin(pg_current_snapshot())`, in
the same statement as the read). A transaction below xmin has ended, and any transaction that
has not ended, or has yet to take an id, will carry an xact_id at or above xmin. Everything at
or before the pump's cursor is therefore final: a late commit lands after the cursor, never
behind it, and nothing is delivered twice. The price: a committed event waits while an older
write transaction is still open, so the pump re-reads with a short backoff while rows are held.
Transactions are delivered whole, in the order they took their transaction ids, which is
commit order whenever transactions do not overlap.

On SQLite writers take turns (Database holds a write lock), so commit order is id order;
xact_id is 0 there and the horizon is unbounded, which makes the same queries follow `id`.

Wake-ups: `Database.on_events_committed` after a local commit; on PostgreSQL also the LISTEN
connection (lectern.events.listener), which carries commits made by other processes; and a
slow poll as a safety net.
"""

import asyncio
import contextlib
import logging
import time

from sqlalchemy.engine import make_url

from lectern.db import NOTIFY_CHANNEL, Database
from lectern.events import log, metrics
from lectern.events.fanout import Subscriber, Subscribers
from lectern.events.listener import NotifyListener
from lectern.events.rules import ORIGIN, Position, Viewer, sse_message

logger = logging.getLogger(__name__)

BATCH = 500
HELD_RETRY_FIRST = 0.002
HELD_RETRY_MAX = 0.25
ERROR_RETRY_MAX = 5.0


class EventPump:
    def __init__(self, database: Database, *, queue_size: int, poll_seconds: float = 10.0) -> None:
        self.database = database
        self.queue_size = queue_size
        self.poll_seconds = poll_seconds
        self.subscribers = Subscribers()
        # Every event at or before the cursor has been fanned out.
        self.cursor: Position = ORIGIN
        self.listener: NotifyListener | None = None
        self._wake = asyncio.Event()
        # Two drains at once would read the same rows and deliver them twice.
        self._draining = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        async with self.database.session() as session:
            self.cursor = await log.head(session)
        self.database.on_events_committed(self.wake)
        self._tasks.append(asyncio.create_task(self._run(), name="event-pump"))
        if self.database.is_postgres:
            dsn = make_url(self.database.settings.async_database_url).set(drivername="postgresql")
            self.listener = NotifyListener(
                dsn.render_as_string(hide_password=False), NOTIFY_CHANNEL, self.wake
            )
            self._tasks.append(asyncio.create_task(self.listener.run(), name="event-listener"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def wake(self, _event_id: int | None = None) -> None:
        self._wake.set()

    def subscribe(self, viewer: Viewer) -> Subscriber:
        """A new stream, receiving every event after the current cursor that it may see."""
        subscriber = Subscriber(viewer, self.cursor, self.queue_size)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _run(self) -> None:
        held_delay = HELD_RETRY_FIRST
        error_delay = HELD_RETRY_FIRST
        timeout = self.poll_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            try:
                held = await self.drain()
            except Exception:
                logger.exception("event pump could not read the log; retrying")
                error_delay = min(error_delay * 2, ERROR_RETRY_MAX)
                timeout = error_delay
                continue
            error_delay = HELD_RETRY_FIRST
            if held:
                timeout = held_delay
                held_delay = min(held_delay * 2, HELD_RETRY_MAX)
            else:
                timeout = self.poll_seconds
                held_delay = HELD_RETRY_FIRST

    async def drain(self) -> bool:
        """Fan out every settled event after the cursor; true if younger ones are held back."""
        async with self._draining:
            while True:
                async with self.database.session() as session:
                    events, held = await log.read_after(session, self.cursor, BATCH)
                now = time.time()
                for event in events:
                    self.subscribers.deliver(event, sse_message(event))
                    metrics.PUMP_LAG.observe(max(0.0, now - event.created_at.timestamp()))
                if events:
                    self.cursor = events[-1].position
                if held or len(events) < BATCH:
                    return held
