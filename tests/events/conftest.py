"""A real server for streams, running its own event loop in a thread, and an SSE client."""

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from lectern.app import create_app
from lectern.events.service import record_event, write_events
from lectern.events.types import AuditRepaired, DomainEvent, NotificationCreated, ProgressUpdated
from lectern.live.pump import EventPump
from lectern.models.base import utcnow
from lectern.models.enums import Audience
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.conftest import free_port
from tests.factories import Person

T = TypeVar("T")


class StreamServer:
    """uvicorn in a thread with its own loop; `call` runs a coroutine on that loop, so that
    commits go through the server's own Database and wake its pump as a request would."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: FastAPI = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.loop.run_until_complete(self.server.serve())
        leftover = asyncio.all_tasks(self.loop)
        for task in leftover:
            task.cancel()
        if leftover:
            self.loop.run_until_complete(asyncio.wait(leftover))
        self.loop.close()

    def __enter__(self) -> "StreamServer":
        self.thread.start()
        for _ in range(1000):
            if self.server.started:
                # Deliveries in these tests come from wake-ups, never from the safety poll.
                self.pump.poll_seconds = 3600
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("stream server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    @property
    def pump(self) -> EventPump:
        pump: EventPump = self.app.state.event_pump
        return pump

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        async def run() -> T:
            return await make()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self.loop))

    async def record(
        self,
        person: Person,
        count: int = 1,
        *,
        audience: str = "both",
        note: str = "",
    ) -> list[int]:
        """Commit `count` events about `person` in one transaction, through the server."""
        return await self.call(
            lambda: record_through(self.database, person, count, audience=audience, note=note)
        )

    async def catch_up(self) -> None:
        """Fan out whatever was committed elsewhere (tests' own writes do not wake this pump)."""
        await self.call(self.pump.drain)


def sample_event(n: int, audience: str = "both", note: str = "") -> DomainEvent:
    """An event of the catalogue for `audience`, numbered `n`, carrying `note`."""
    if audience == Audience.LEARNER:
        return NotificationCreated(
            id=n,
            kind="test",
            title=f"Event {n}",
            body=note,
            link="",
            created_at=utcnow(),
            read_at=None,
        )
    if audience == Audience.ADMINS:
        return AuditRepaired(invariant=f"event {n}", row={"note": note})
    return ProgressUpdated(
        enrollment_id=n, course_id=1, course_title=note, progress=n, previous=0, status="active"
    )


async def record_through(
    database: Database,
    person: Person,
    count: int = 1,
    *,
    audience: str = "both",
    note: str = "",
    event: Callable[[int], DomainEvent] | None = None,
) -> list[int]:
    """Commit `count` events about `person` in one transaction of `database`: `event(n)`, or
    else a sample event for `audience`."""

    async def command(session: Any) -> list[int]:
        for n in range(count):
            recorded = event(n) if event else sample_event(n, audience, note)
            record_event(session, recorded, institution_id=person.institution_id, user_id=person.id)
        return await write_events(session)

    return await database.run(command)


@pytest.fixture(scope="session")
def stream_server(settings: Settings) -> Iterator[StreamServer]:
    with StreamServer(settings) as server:
        yield server


@dataclass
class Received:
    id: int
    event: str
    data: dict[str, Any]


class EventStream:
    """A client of GET /api/v1/stream over a real socket."""

    def __init__(
        self,
        server: "StreamServer | str",
        person: Person,
        *,
        last_event_id: int | None = None,
        query: str = "",
    ) -> None:
        self.server = server if isinstance(server, StreamServer) else None
        base = server.url if isinstance(server, StreamServer) else server
        self.url = f"{base}/api/v1/stream{query}"
        self.headers = dict(person.headers)
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        self.response: httpx.Response | None = None
        self.lines: AsyncIterator[str] | None = None

    async def __aenter__(self) -> "EventStream":
        if self.server is not None:
            await self.server.catch_up()
        request = self.client.build_request("GET", self.url, headers=self.headers)
        self.response = await self.client.send(request, stream=True)
        assert self.response.status_code == 200, await self.response.aread()
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self.lines = self.response.aiter_lines()
        # The server says ": open" once subscribed; events committed after it are never missed.
        async with asyncio.timeout(10):
            while (await anext(self.lines)) != ": open":
                pass
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            await self.response.aclose()
        await self.client.aclose()

    async def next(self, within: float = 10.0) -> Received:
        assert self.lines is not None
        fields: dict[str, str] = {}
        async with asyncio.timeout(within):
            async for line in self.lines:
                if line.startswith(":"):
                    continue
                if line == "":
                    if fields:
                        return Received(
                            int(fields["id"]),
                            fields.get("event", "message"),
                            json.loads(fields["data"]),
                        )
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")

    async def take(self, count: int, within: float = 10.0) -> list[Received]:
        return [await self.next(within) for _ in range(count)]
