"""A webhooks sender in a process of its own, which a test kills in the middle of a delivery:
`python -m tests.webhooks.sender DATABASE_URL` runs one delivery round and exits."""

import asyncio
import sys

from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.webhooks.sending import WEBHOOKS


async def main(database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        webhooks_allow_loopback_http=True,
        outbound_timeout_seconds=120.0,
    )
    database = Database(settings)
    try:
        await OutboundWorker(database, settings, WEBHOOKS).deliver_due()
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
