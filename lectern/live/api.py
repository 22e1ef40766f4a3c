"""GET /api/v1/stream: the events the caller may see, live, resumable with Last-Event-ID.

Messages use SSE's default event name (`message`), so a browser's `EventSource.onmessage`
gets them all; the event's own `type` is in the JSON `data`, and the SSE `id` is the event id.
"""

from collections.abc import AsyncIterator

from fastapi import Depends, Request

from lectern.events import log
from lectern.events.rules import Viewer, resume_from, sse_message
from lectern.live import metrics
from lectern.live.fanout import PING, Subscriber
from lectern.live.pump import EventPump
from lectern.live.response import EventStreamResponse
from lectern.platform.actor import Actor
from lectern.platform.auth import current_actor
from lectern.platform.db import Database
from lectern.platform.routes import api_router
from lectern.platform.schemas import HeaderEventId, QueryEventId
from lectern.staff.service import followed_courses

router = api_router(prefix="/api/v1", tags=["events"])

REPLAY_PAGE = 500
# A comment sent once subscribed: from here on nothing committed is missed.
OPENED = b": open\n\n"


async def _replay(
    database: Database, subscriber: Subscriber, after: int, upto: int
) -> AsyncIterator[bytes]:
    while after < upto:
        # The viewer of each page: a merge of institutions may move the subscriber meanwhile.
        async with database.reader() as reader:
            events = await log.read_for(reader, subscriber.viewer, after, upto, REPLAY_PAGE)
        for event in events:
            yield sse_message(event)
        if len(events) < REPLAY_PAGE:
            return
        after = events[-1].id


async def _in_log(database: Database, event_id: int) -> bool:
    """Whether `event_id` is committed; an id from before the log was emptied or restored is not,
    and must not hold back the events that now carry lower ids."""
    async with database.reader() as reader:
        return await log.last_id(reader, event_id) == event_id


async def _messages(
    database: Database, pump: EventPump, subscriber: Subscriber, last_event_id: int | None
) -> AsyncIterator[bytes]:
    # Subscribed before reading the table: live events queue up while the replay runs, and the
    # subscriber's start is exactly where the replay ends, so none is lost or doubled.
    metrics.OPEN_STREAMS.inc()
    try:
        yield OPENED
        if last_event_id is not None:
            async for message in _replay(database, subscriber, last_event_id, subscriber.start):
                yield message
                metrics.EVENTS_REPLAYED.inc()
                metrics.EVENTS_DELIVERED.inc()
            if last_event_id > subscriber.start and await _in_log(database, last_event_id):
                # Another process served this client further along than ours has come.
                subscriber.floor = last_event_id
        while batch := await subscriber.next_batch():
            sent = [item for item in batch if item is PING or item[0] > subscriber.floor]
            if sent:
                yield b"".join(message for _, message in sent)
                metrics.EVENTS_DELIVERED.inc(sum(item is not PING for item in sent))
    finally:
        pump.unsubscribe(subscriber)
        metrics.OPEN_STREAMS.dec()


@router.get(
    "/stream",
    status_code=200,
    response_class=EventStreamResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    last_event_id: QueryEventId = None,
    last_event_id_header: HeaderEventId = None,
    actor: Actor = Depends(current_actor),
) -> EventStreamResponse:
    """Server-Sent Events for what the caller may see: a learner their own events, an admin their
    institution's, an instructor those of the courses they are staff of. Reconnect with
    Last-Event-ID to receive every missed event, then live ones."""
    database: Database = request.app.state.database
    pump: EventPump = request.app.state.event_pump
    viewer = Viewer.of(
        actor.id, actor.institution_id, actor.role, await followed_courses(database, actor)
    )
    subscriber = await pump.subscribe(viewer)
    return EventStreamResponse(
        _messages(database, pump, subscriber, resume_from(last_event_id_header, last_event_id)),
        subscriber,
    )
