"""Every error the API answers with is RFC 9457 problem details."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from lectern.platform.errors import PROBLEM_BASE, LecternError
from lectern.platform.plain_messages import field_name, plain_message

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": plain_message(error.get("type", ""), error.get("msg", ""), error.get("ctx")),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]


def _detail(errors: list[dict[str, Any]]) -> str:
    return " ".join(
        f"{name}: {e['msg']}" if (name := field_name(e["loc"])) else e["msg"] for e in errors
    )


async def _lectern_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LecternError)
    return problem_response(exc.status, exc.problem())


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    if any(error["type"] == "json_invalid" for error in errors):
        return problem_response(
            400,
            {
                "type": PROBLEM_BASE + "malformed-json",
                "title": "Malformed JSON",
                "status": 400,
                "detail": "The request body is not valid JSON.",
                "errors": errors,
            },
        )
    return problem_response(
        422,
        {
            "type": PROBLEM_BASE + "invalid",
            "title": "Invalid input",
            "status": 422,
            "detail": _detail(errors),
            "errors": errors,
        },
    )


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem_response(
        exc.status_code,
        {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
        },
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        500,
        {
            "type": PROBLEM_BASE + "internal",
            "title": "Internal error",
            "status": 500,
            "detail": "Something went wrong on our side; it was logged.",
        },
    )


def _violated(exc: IntegrityError) -> str | None:
    """Which kind of constraint refused the write: `foreign-key`, `unique`, or None (another)."""
    orig = exc.orig
    sqlstate, text = getattr(orig, "sqlstate", None), str(orig)
    if sqlstate == "23503" or "FOREIGN KEY constraint failed" in text:
        return "foreign-key"
    if sqlstate == "23505" or "UNIQUE constraint failed" in text:
        return "unique"
    return None


_LOST_RACES = {
    "foreign-key": "Something this change refers to was removed or moved meanwhile; "
    "reload and try again.",
    "unique": "A change made at the same moment took this first; reload and try again.",
}


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """Commands check what they refer to and insert with ON CONFLICT, so a foreign or unique key
    that refuses a write lost a race: a concurrent command removed, merged or took the row
    meanwhile (two people confirming the same new e-mail address). Any other violation is a
    bug. Either way the transaction rolled back whole."""
    assert isinstance(exc, IntegrityError)
    violated = _violated(exc)
    if violated is None:
        return await _unexpected_error(request, exc)
    return problem_response(
        409,
        {
            "type": PROBLEM_BASE + "changed-meanwhile",
            "title": "Conflict",
            "status": 409,
            "detail": _LOST_RACES[violated],
        },
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LecternError, _lectern_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, _unexpected_error)
