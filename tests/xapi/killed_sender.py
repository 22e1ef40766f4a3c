"""A sender that dies at the worst moment, run as its own process by the tests:

    python -m tests.xapi.killed_sender DATABASE_URL

It claims the due xAPI destination, posts its batch to the LRS and, as soon as the LRS has
answered, kills itself (SIGKILL) before it can record the delivery and move the cursor."""

import asyncio
import os
import signal
import sys
from dataclasses import replace

from lectern.events.rules import LoggedEvent
from lectern.outbound.kinds import Accepted
from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.xapi.delivery import XAPI, Lrs, send_statements


async def send_then_die(lrs: Lrs, events: list[LoggedEvent]) -> Accepted:
    accepted = await send_statements(lrs, events)
    print(f"sent events {events[0].id}..{events[-1].id}: {accepted.http_status}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    return accepted


async def main(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    worker = OutboundWorker(Database(settings), settings, replace(XAPI, send=send_then_die))
    await worker.deliver_due()
    print("nothing was due", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
