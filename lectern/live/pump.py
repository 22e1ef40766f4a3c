"""One pump per process: it reads newly committed events and fans them out to local streams.

Order without gaps. Event ids come from a sequence, so transaction A can draw id 10, B id 11,
and B commit first. A reader that follows `id > cursor` would pass 10 and never see it; one
that waits for gaps to fill cannot tell a slow transaction from a rolled-back one (which leaves
a gap forever) except by a timeout, which is a guess. Ordering by transaction id and reading
below the snapshot's xmin is exact but lets any open write transaction anywhere in the cluster,
events or not, freeze every live page until it ends.

So a transaction that appends events announces itself first (lectern.events.inflight): a
shared advisory lock, held until it ends, keyed by the sequence's last value, below every id it
will draw. The pump reads the sequence's last value M, then the lowest held key K, and then,
in a later statement, the events with cursor < id <= min(M, K). Any id x <= min(M, K) was
drawn before M was read, by a transaction that took its lock before drawing x and keyed it
below x; were that transaction still open when the locks were read, K would be below x. So it
had ended, and the later statement sees its rows, or they never existed. Nothing at or below
the cursor can still appear: a late commit is delivered (in id order, after the lower ids),
nothing twice, and a rolled-back id is passed as soon as its transaction ends. Only
transactions that write events can hold delivery back, and only while they are open; the pump
re-reads with a short backoff meanwhile (a NOTIFY follows their commit anyway). This holds
for events appended by `record_event`, which announces the transaction; a row inserted any
other way could be skipped if it commits late.

On SQLite writers take turns (Database holds a write lock), so whatever is visible is final.

A process with no stream open has nobody to tell: commits do not wake its pump, it reads
nothing, and its cursor rests until the next stream subscribes, which first brings the cursor to
the newest final event and then wakes the pump for whatever landed meanwhile.

Wake-ups: `Database.on_events_committed` after a local commit; on PostgreSQL also the LISTEN
connection (lectern.live.listener), which carries commits made by other processes; and a
slow poll as a safety net.
"""

import asyncio
import contextlib
import itertools
import logging
import time

from sqlalchemy.engine import make_url

from lectern.events import inflight, log
from lectern.events.inflight import NOTIFY_CHANNEL
from lectern.events.rules import Viewer, merged_institutions, sse_message, staff_change
from lectern.live import metrics
from lectern.live.fanout import Subscriber, Subscribers
from lectern.live.listener import NotifyListener
from lectern.live.response import server_is_stopping
from lectern.platform.db import Database

logger = logging.getLogger(__name__)

BATCH = 500
HELD_RETRY_FIRST = 0.002
# Under load commits arrive faster than a drain reads them: a drain starts at most this often, so
# the commits of the meantime are read together instead of one drain (three queries) each.
DRAIN_SPACING = 0.005
# And less often while writers are open: each look at them reads the whole lock table, holding
# the lock manager's partitions that every writer needs, in every process.
HELD_DRAIN_SPACING = 0.02
HELD_RETRY_MAX = 0.25
ERROR_RETRY_MAX = 5.0
KEEP_ALIVE_TICK_SECONDS = 0.5


class EventPump:
    def __init__(
        self,
        database: Database,
        *,
        queue_size: int,
        ping_seconds: float = 15.0,
        send_timeout: float = 10.0,
        poll_seconds: float = 10.0,
    ) -> None:
        self.database = database
        self.queue_size = queue_size
        self.ping_seconds = ping_seconds
        self.send_timeout = send_timeout
        self.poll_seconds = poll_seconds
        self.subscribers = Subscribers()
        # Every event at or before the cursor has been fanned out.
        self.cursor = 0
        self.listener: NotifyListener | None = None
        self._wake = asyncio.Event()
        # Two drains at once would read the same rows and deliver them twice.
        self._draining = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._head = inflight.LogHead()

    async def start(self) -> None:
        await self._catch_up()
        self.database.on_events_committed(self.wake)
        self._tasks.append(asyncio.create_task(self._run(), name="event-pump"))
        self._tasks.append(asyncio.create_task(self._keep_alive(), name="event-pings"))
        if self.database.is_postgres:
            dsn = make_url(self.database.settings.async_database_url).set(drivername="postgresql")
            self.listener = NotifyListener(
                dsn.render_as_string(hide_password=False), NOTIFY_CHANNEL, self.wake
            )
            self._tasks.append(asyncio.create_task(self.listener.run(), name="event-listener"))

    async def stop(self) -> None:
        self.end_streams()
        # With no stream left no drain begins; the one under way ends before the tasks are
        # cancelled, never halfway through a statement (lectern.platform.rounds says why).
        async with self._draining:
            for task in self._tasks:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def wake(self, _event_id: int | None = None) -> None:
        if self.subscribers:  # with none, there is nothing to drain (see `subscribe`)
            self._wake.set()

    async def subscribe(self, viewer: Viewer) -> Subscriber:
        """A new stream, receiving every event after the current cursor that it may see."""
        if not self.subscribers:
            # With no stream open the pump rests and its cursor falls behind: bring it to now.
            async with self._draining:
                if not self.subscribers:
                    await self._catch_up()
        subscriber = Subscriber(viewer, self.cursor, self.queue_size)
        self.subscribers.add(subscriber)
        # A commit between the catch-up and now woke nobody: look after it.
        self._wake.set()
        return subscriber

    async def _catch_up(self) -> None:
        async with self.database.reader() as reader:
            final = await self._head.final_up_to(reader)
            self.cursor = await log.last_id(reader, final.upto)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def end_streams(self) -> None:
        for subscriber in list(self.subscribers):
            self.subscribers.discard(subscriber)
            subscriber.end()

    async def _keep_alive(self) -> None:
        """Ping every stream once per ping interval, a slice of them at each tick so that ten
        thousand pings never go out at once; cut off streams whose send has waited longer
        than the send timeout; end every stream when the server begins to stop."""
        loop = asyncio.get_running_loop()
        tick = min(KEEP_ALIVE_TICK_SECONDS, self.ping_seconds)
        slices = max(1, round(self.ping_seconds / tick))
        for n in itertools.count():
            await asyncio.sleep(tick)
            if server_is_stopping():
                self.end_streams()
                continue
            stalled_since = loop.time() - self.send_timeout
            for subscriber in list(self.subscribers):
                if 0 < subscriber.sending_since < stalled_since:
                    self.subscribers.discard(subscriber)
                    subscriber.cut_off()
                elif hash(subscriber) % slices == n % slices:
                    subscriber.ping()

    async def _run(self) -> None:
        held_delay = HELD_RETRY_FIRST
        error_delay = HELD_RETRY_FIRST
        timeout = self.poll_seconds
        loop = asyncio.get_running_loop()
        last_drain, spacing = -HELD_DRAIN_SPACING, DRAIN_SPACING
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            if (wait := last_drain + spacing - loop.time()) > 0:
                await asyncio.sleep(wait)
            self._wake.clear()
            last_drain = loop.time()
            try:
                held = await self.drain()
                spacing = HELD_DRAIN_SPACING if held else DRAIN_SPACING
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
        """Fan out every final event after the cursor; true if open writers hold some back.
        With no stream open there is nobody to tell, and nothing is read."""
        async with self._draining:
            while self.subscribers:
                # Autocommit: each statement reads a fresh snapshot, as the argument above needs.
                async with self.database.reader() as reader:
                    final = await self._head.final_up_to(reader)
                    if final.restarted or final.upto < self.cursor:
                        self._restart_log()
                    events = await log.read_between(reader, self.cursor, final.upto, BATCH)
                now = time.time()
                for event in events:
                    if merge := merged_institutions(event):
                        self.subscribers.move_institution(*merge)
                    if change := staff_change(event):
                        self.subscribers.follow_course(*change)
                    self.subscribers.deliver(event, sse_message)
                    metrics.PUMP_LAG.observe(max(0.0, now - event.created_at.timestamp()))
                if events:
                    self.cursor = events[-1].id
                if len(events) < BATCH:
                    return final.held
            return False

    def _restart_log(self) -> None:
        """The sequence went back (the log was emptied or restored): follow it from the start."""
        logger.warning(
            "event ids went back below %d; following the log from its start", self.cursor
        )
        self.cursor = 0
        for subscriber in self.subscribers:
            subscriber.floor = 0
