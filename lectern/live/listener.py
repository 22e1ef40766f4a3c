"""The PostgreSQL LISTEN connection: one per process, outside the SQLAlchemy pool.

NOTIFY is delivered only on commit and carries just the newest event id, so a notification is
a wake-up, never the data. After any failure the listener reconnects with backoff and wakes
the pump, which then catches up from the table: nothing committed meanwhile is missed.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from lectern.live import metrics

logger = logging.getLogger(__name__)

APPLICATION_NAME = "lectern-listener"
KEEPALIVE_SECONDS = 15.0
KEEPALIVE_TIMEOUT = 5.0
RECONNECT_FIRST = 0.05
RECONNECT_MAX = 5.0


class NotifyListener:
    def __init__(self, dsn: str, channel: str, wake: Callable[[], None]) -> None:
        self.dsn = dsn
        self.channel = channel
        self.wake = wake
        self.connected = asyncio.Event()
        self.backend_pid: int | None = None

    async def run(self) -> None:
        delay = RECONNECT_FIRST
        while True:
            try:
                await self._listen()
            except Exception as exc:
                logger.warning("event listener lost its connection (%r); reconnecting", exc)
            self.connected.clear()
            if self.backend_pid is not None:
                delay = RECONNECT_FIRST
            self.backend_pid = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self.dsn, server_settings={"application_name": APPLICATION_NAME}
        )
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(self.channel, lambda *_args: self.wake())
            self.backend_pid = connection.get_server_pid()
            metrics.LISTENER_CONNECTS.inc()
            self.connected.set()
            # Whatever was committed while no one listened is in the table.
            self.wake()
            while not lost.is_set() and not connection.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
                    break
                await asyncio.wait_for(connection.execute("SELECT 1"), KEEPALIVE_TIMEOUT)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), KEEPALIVE_TIMEOUT)
            connection.terminate()
