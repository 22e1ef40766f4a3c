"""When the database cannot be reached: a 503 problem that says when to try again, not a 500.

Database (lectern.platform.db) replaces connections the server ended and retries what it
safely can: a single read, and a command that lost its connection before COMMIT, or during a
COMMIT the server says did not take effect (one it says did is answered). A handler
that reads through a session may have its connection ended between two of its reads; a GET
or HEAD is safe to run again, so `RetryReads` does that once before the 503 goes out.
"""

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lectern.platform.errors import LecternError
from lectern.platform.problems import problem_response

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
SAFE_METHODS = frozenset({"GET", "HEAD"})
_RUN_AGAIN = "lectern.run_again"  # set on the scope by the 503 handler: worth another run
# Connection exceptions, the server shutting down or starting up, too many connections.
_UNREACHABLE_SQLSTATES = ("08", "57P", "53300")


class DatabaseUnavailable(LecternError):
    status = 503
    title = "Database unavailable"
    slug = "database-unavailable"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(
            detail or "The database cannot be reached just now; nothing was changed.", **extra
        )


class CommitOutcomeUnknown(DatabaseUnavailable):
    """The connection was lost while COMMIT was on its way, and the server could not say how it
    ended (the transaction took no id it could be asked by): the change may have been saved."""

    def __init__(self) -> None:
        super().__init__(
            "The database connection was lost while this change was being saved, so it may or "
            "may not have been saved; check, then repeat it if it was not (repeating a command "
            "that did happen changes nothing).",
            slug="commit-outcome-unknown",
        )


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (rather than refused a statement):
    a connection the server ended, one that could not be opened, or no pooled one in time."""
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig or error
    if isinstance(error, exc.TimeoutError | OSError | asyncpg.ConnectionDoesNotExistError):
        return True  # no pooled connection in time; a refused or broken socket; a closed one
    if isinstance(error, asyncpg.InterfaceError) and str(error) == "connection is closed":
        return True  # asyncpg's word for a connection ended while it was being set up
    if isinstance(error, asyncpg.InternalClientError):
        return True  # its protocol left broken, as a connection ended mid-statement leaves it
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None) or ""
    return sqlstate.startswith(_UNREACHABLE_SQLSTATES)


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DatabaseUnavailable)
    # Waiting for a pooled connection again would only double the wait.
    if not isinstance(error.__cause__, exc.TimeoutError):
        request.scope[_RUN_AGAIN] = True
    log.warning("database unavailable: %s", error.__cause__ or error)
    return problem_response(
        error.status, error.problem(), headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def install_unavailable_handler(app: FastAPI) -> None:
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_middleware(RetryReads)


class RetryReads:
    """Pure ASGI middleware: a GET or HEAD answered 503 because its connection was lost is run
    once more, unseen by the client. Other methods pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        first_scope = dict(scope)
        received: list[Message] = []
        held_back = False

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        async def holding_send(message: Message) -> None:
            nonlocal held_back
            if message["type"] == "http.response.start" and message["status"] == 503:
                held_back = bool(first_scope.get(_RUN_AGAIN))
            if not held_back:
                await send(message)

        await self.app(first_scope, recording_receive, holding_send)
        if not held_back:
            return
        log.info("running %s %s again after a lost connection", scope["method"], scope["path"])

        async def replaying_receive() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(dict(scope), replaying_receive, send)
