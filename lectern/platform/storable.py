"""Text the databases can store, and the ASGI check that refuses the rest at the door.

PostgreSQL refuses NUL in text (SQLite would store it, and the value would then differ by
database), and no driver can encode a lone surrogate as UTF-8: either reached the database as
a server error. JSON bodies are checked by `lectern.platform.schemas.Input`; what a handler may read
without pydantic (the path, the query string, headers and cookies) is checked here, once for
every route, page and mounted app."""

import re
from typing import Any

import pydantic_core
from starlette.types import ASGIApp, Receive, Scope, Send

from lectern.platform.errors import PROBLEM_BASE

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "contains NUL or a lone surrogate, which no text can hold"


def storable(text: str) -> bool:
    """Whether both databases can store `text` as it is."""
    return _UNSTORABLE.search(text) is None


def all_storable(value: Any) -> bool:
    """Whether every string in a validated field (a string, a list or a dict of them, at any
    depth) is storable; nested models have checked their own fields."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list | tuple | set | frozenset):
        return all(all_storable(item) for item in value)
    if isinstance(value, dict):
        return all(all_storable(key) and all_storable(item) for key, item in value.items())
    return True


def _unstorable_part(scope: Scope) -> str | None:
    """Where in the request line or headers a NUL is, if anywhere. The server decoded the path,
    so a `%00` there is a NUL; percent-decoding the query string yields one only from `%00`;
    invalid UTF-8 decodes to U+FFFD, never to a surrogate."""
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return "query"
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return "cookie" if name == b"cookie" else "header"
    return None


def _refusal(part: str) -> bytes:
    return pydantic_core.to_json(
        {
            "type": PROBLEM_BASE + "invalid",
            "title": "Invalid input",
            "status": 422,
            "detail": f"The request's {part} {UNSTORABLE_MESSAGE}.",
            "errors": [{"loc": [part], "msg": UNSTORABLE_MESSAGE, "type": "unstorable_text"}],
        }
    )


class RefuseUnstorableText:
    """ASGI middleware: a request whose path, query string, headers or cookies carry a NUL is
    answered 422 before any route, dependency or mounted app sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (part := _unstorable_part(scope)) is None:
            await self.app(scope, receive, send)
            return
        body = _refusal(part)
        await send(
            {
                "type": "http.response.start",
                "status": 422,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
