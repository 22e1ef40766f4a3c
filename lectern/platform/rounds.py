"""Background work done in rounds: a round when woken, or after a pause when nothing wakes it.

A worker is stopped between two rounds, never in the middle of one. A task cancelled while its
connection is in the middle of a statement has that connection terminated, and on SQLite the
termination can wait forever (aiosqlite's close waits for a thread that already stopped), which
leaves the process unable to end. So `stop` lets the round under way finish, and cancels only
one that outlasts its grace.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0


class Rounds:
    def __init__(
        self,
        work: Callable[[], Awaitable[object]],
        *,
        name: str,
        pause: float,
        first_after: float = 0.0,
        spacing: float = 0.0,
    ) -> None:
        """`work` runs `first_after` seconds after `start`, then after each wake or `pause`
        seconds, whichever comes first; at least `spacing` seconds after the last round ended."""
        self.work = work
        self.name = name
        self.pause = pause
        self.first_after = first_after
        self.spacing = spacing
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> "Rounds":
        self._task = asyncio.create_task(self._run(), name=self.name)
        return self

    def wake(self, _event_id: int = 0) -> None:
        self._wake.set()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Wait for the round under way, if any, and run no other; cancel it after `grace`."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            log.warning("%s: a round outlasted %.0f s of stopping; cancelled", self.name, grace)
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        await self._rest(self.first_after)
        while not self._stopping:
            self._wake.clear()
            try:
                await self.work()
            except Exception:
                log.exception("%s failed a round; it tries again", self.name)
            await self._rest(self.pause)
            if self.spacing and not self._stopping:
                await asyncio.sleep(self.spacing)

    async def _rest(self, seconds: float) -> None:
        """Until woken, stopped, or `seconds` have passed."""
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
