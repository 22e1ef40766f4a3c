"""A lean text/event-stream response: per open stream, one task besides the request's own.

sse-starlette runs four tasks per stream (sender, pinger, shutdown and disconnect watchers)
and a timer per send; at ten thousand streams that is most of the memory and much of the time
of a broadcast. Here the pump pings every stream and cuts off the ones whose send has waited
too long (Subscriber.cut_off), and the only helper task waits for the client to hang up.
"""

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextvars import ContextVar

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from lectern.live.fanout import Subscriber

logger = logging.getLogger(__name__)
# Set in the request's task when its stream is cut off; uvicorn logs after the app returns, in
# that same task, so its log filter can tell a cut-off stream from a broken response.
_cut_off = ContextVar("lectern_stream_cut_off", default=False)
UNFINISHED_RESPONSE = "ASGI callable returned without completing response."


class CutOffStreamsAreNoError(logging.Filter):
    """Ending a response unfinished is how a cut-off stream makes uvicorn drop the connection;
    uvicorn logs that as an ERROR, which for a stream cut off on purpose it is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_cut_off.get() and record.getMessage() == UNFINISHED_RESPONSE)


def quiet_cut_off_streams() -> None:
    """Install the filter on uvicorn's error log (once per process)."""
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, CutOffStreamsAreNoError) for f in server_log.filters):
        server_log.addFilter(CutOffStreamsAreNoError())


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"

    def __init__(self, messages: AsyncIterator[bytes], subscriber: Subscriber) -> None:
        super().__init__(
            messages,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            media_type=self.media_type,
        )
        self.messages = messages
        self.subscriber = subscriber

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscriber = self.subscriber
        subscriber.sender = asyncio.current_task()
        clock = asyncio.get_running_loop().time
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.messages:
                subscriber.sending_since = clock()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                subscriber.sending_since = 0.0
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not subscriber.cut:
                raise
            # Cut off: ending without the last chunk makes the server close the connection.
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            _cut_off.set(True)
            logger.info("cut off an event stream whose client stopped reading")
        finally:
            watcher.cancel()
            aclose = getattr(self.messages, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.subscriber.end()


def server_is_stopping() -> bool:
    """Whether uvicorn has begun a graceful shutdown. It then waits for open responses to end
    and tells the app nothing, so streams must notice and end themselves; its SIGTERM handler
    is a method of the running server (the same introspection sse-starlette uses)."""
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
