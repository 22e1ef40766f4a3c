"""Request bodies are bounded: one over the limit is answered 413 before it is read whole.

A declared Content-Length over the limit is refused before the application runs, so even a
route that never reads its body changes nothing. A body sent without a length (chunked) is
counted as it arrives and refused as soon as it passes the limit. A request without a body
passes untouched: no wrapper costs the hot path. After the 413 the server discards whatever
the client still sends and keeps the connection, so the client reads its answer.

Starlette's and FastAPI's own `max_body_size` does not fit: it lets a route that does not read
its body run (and commit) before it swaps the response for a plain-text 413, and it wraps the
`receive` and `send` of every request.
"""

from collections.abc import Iterable, Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lectern.platform.errors import LecternError
from lectern.platform.problems import problem_response


class PayloadTooLarge(LecternError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class _BodyOverLimit(HTTPException):
    """Raised into the application from `receive`: an HTTP error to it, not a crash to log."""

    def __init__(self) -> None:
        super().__init__(413, "Payload too large")


def declared_body_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The body length a request declares: 0 without a body, None when it is sent without a
    length (chunked, or a length that is not a number) and must be counted."""
    length = 0
    for name, value in headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            if not value.isdigit():
                return None
            length = int(value)
    return length


class BodyLimit:
    """Pure ASGI middleware answering 413 to a request body over `max_bytes`, or over the
    limit `larger` gives its path (an upload route's own setting)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes) if self.larger else self.max_bytes
        length = declared_body_length(scope["headers"])
        if length is None:
            await self._counting(scope, receive, send, limit)
        elif length > limit:
            await self._refuse(scope, receive, send, limit)
        else:
            await self.app(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise _BodyOverLimit
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise _BodyOverLimit
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused and not started:
                return  # the application's answer to the refusal; ours follows
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused or started:
                raise
        if refused and not started:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        problem = PayloadTooLarge(f"The request body is over the limit of {limit} bytes.")
        await problem_response(problem.status, problem.problem())(scope, receive, send)
