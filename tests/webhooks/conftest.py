"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 (uvicorn, in a thread)
that verifies each message's signature with standardwebhooks' Webhook.verify, refuses on
purpose when told to, holds a message unanswered when told to, and dedupes on webhook-id."""

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.webhooks.sending import WEBHOOKS, Endpoint
from tests.conftest import free_port
from tests.factories import Person, World
from tests.outbound.conftest import quick_settings
from tests.rows import last_event_id


@dataclass(frozen=True)
class Message:
    id: str
    type: str
    data: dict[str, Any]
    signature: str


class Receiver:
    """What a careful receiver does: verify, then process each webhook-id once."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.arrived: list[Message] = []  # every verified request, duplicates included
        self.processed: list[Message] = []  # once per webhook-id, in arrival order
        self.duplicates: list[str] = []
        self.unverified = 0
        self.refusals = 0  # answer the next this many messages 503
        self.refuse_after: int | None = None  # take this many more, then refuse one
        self.hold = threading.Event()  # while set, a message is processed but not answered
        self.held = threading.Event()  # set once a message waits unanswered
        self.release = threading.Event()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            part = await receive()
            body += part.get("body", b"")
            if not part.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        status = self._take(body, headers)
        if status == 200 and self.hold.is_set():
            self.held.set()
            await asyncio.to_thread(self.release.wait, 120)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send(
            {"type": "http.response.body", "body": b"down for maintenance" * (status == 503)}
        )

    def _take(self, body: bytes, headers: dict[str, str]) -> int:
        for secret in self.secrets:
            try:
                document = Webhook(secret).verify(body, headers)
                break
            except WebhookVerificationError:
                continue
        else:
            self.unverified += 1
            return 401
        message = Message(
            headers["webhook-id"], document["type"], document["data"], headers["webhook-signature"]
        )
        assert json.loads(body)["timestamp"]
        self.arrived.append(message)
        if self.refuse_after is not None:
            if self.refuse_after == 0:
                self.refuse_after = None
                return 503
            self.refuse_after -= 1
        if self.refusals:
            self.refusals -= 1
            return 503
        if message.id in {seen.id for seen in self.processed}:
            self.duplicates.append(message.id)
        else:
            self.processed.append(message)
        return 200

    def processed_ids(self) -> list[int]:
        return [int(message.id.removeprefix("evt_")) for message in self.processed]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    server = uvicorn.Server(
        uvicorn.Config(box, host="127.0.0.1", port=box.port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    try:
        yield box
    finally:
        box.release.set()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def worker(db: Database, settings: Settings) -> OutboundWorker[Endpoint]:
    quick = quick_settings(
        settings, webhooks_allow_loopback_http=True, outbound_timeout_seconds=5.0
    )
    return OutboundWorker(db, quick, WEBHOOKS, jitter=lambda: 0.0)


async def new_subscription(
    client: httpx.AsyncClient,
    admin: Person,
    url: str,
    event_types: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A subscription of the admin's institution (to course.created unless told), as its
    creation answered."""
    r = await client.post(
        "/api/v1/admin/webhooks",
        json={"url": url, "event_types": event_types or ["course.created"], **fields},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def subscribe(
    client: httpx.AsyncClient,
    admin: Person,
    receiver: Receiver,
    event_types: list[str],
    **fields: Any,
) -> dict[str, Any]:
    """The receiver subscribed, and ready to verify what the subscription's secret signs."""
    made = await new_subscription(client, admin, receiver.url, event_types, **fields)
    receiver.secrets.append(made["secret"])
    return made


COURSE_TYPES = ["course.created", "course.updated"]


@dataclass(frozen=True)
class Subscribed:
    """An admin whose endpoint, the receiver, is subscribed to course events; `start` is the
    log's last event id before."""

    admin: Person
    start: int
    hook: dict[str, Any]


@pytest.fixture
async def subscribed(
    world: World, db: Database, client: httpx.AsyncClient, receiver: Receiver
) -> Subscribed:
    admin = await world.admin()
    start = await last_event_id(db)
    return Subscribed(admin, start, await subscribe(client, admin, receiver, COURSE_TYPES))
