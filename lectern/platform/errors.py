"""Errors that carry their HTTP status, rendered as RFC 9457 problem details."""

from typing import Any

PROBLEM_BASE = "https://lectern.dev/problems/"


class LecternError(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str = "", *, slug: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if slug:
            self.slug = slug
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


class BadRequest(LecternError):
    pass


class Unauthorized(LecternError):
    status = 401
    title = "Not authenticated"
    slug = "not-authenticated"


class Forbidden(LecternError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(LecternError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(LecternError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Invalid(LecternError):
    status = 422
    title = "Invalid input"
    slug = "invalid"


class TooManyRequests(LecternError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"
