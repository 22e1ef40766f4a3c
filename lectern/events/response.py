"""A lean text/event-stream response: per open stream, one task besides the request's own.

sse-starlette runs four tasks per stream (sender, pinger, shutdown and disconnect watchers);
at ten thousand streams that is most of the memory. Here pings come from the pump, for every
stream at once, and the only helper task waits for the client to hang up.
"""

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

logger = logging.getLogger(__name__)


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"

    def __init__(
        self,
        messages: AsyncIterator[bytes],
        *,
        on_disconnect: Callable[[], None],
        send_timeout: float,
    ) -> None:
        super().__init__(
            messages,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            media_type=self.media_type,
        )
        self.messages = messages
        self.on_disconnect = on_disconnect
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self.messages:
                async with asyncio.timeout(self.send_timeout):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            # The client stopped reading; ending without a last chunk closes the connection.
            logger.info("closed an event stream whose client stopped reading")
        finally:
            watcher.cancel()
            aclose = getattr(self.messages, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.on_disconnect()


def server_is_stopping() -> bool:
    """Whether uvicorn has begun a graceful shutdown. It then waits for open responses to end
    and tells the app nothing, so streams must notice and end themselves; its SIGTERM handler
    is a method of the running server (the same introspection sse-starlette uses)."""
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
