"""The OpenAPI document tells every operation's problem answers, from how the route is made.

FastAPI documents a 422 in its own HTTPValidationError shape, which Lectern never answers, and
nothing else that can go wrong. Here each operation gets the 4xx answers its kind of route can
give, as `application/problem+json` of the Problem schema: one rule for every route, so a new
endpoint is described as soon as it exists."""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

from lectern.platform.problems import PROBLEM_JSON

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: the body is not valid JSON.",
    401: "Not authenticated, or the credential is not valid.",
    403: "The caller may not do this (role, institution, or a missing CSRF token).",
    404: "Something the request names does not exist, or the caller may not see it.",
    409: "Conflicts with the current state (already done, or changed meanwhile).",
    413: "The request body is larger than the server accepts.",
    422: "Invalid input: a parameter or the body breaks its schema.",
    429: "Too many requests; try again later.",
}


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; some problems carry more members."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def answered_again(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a command that answers 201 when it makes something: repeated, it makes
    nothing and answers 200 with what is there."""
    return {200: {"model": model, "description": "Already so: what the first request made."}}


def _calls(dependant: Dependant) -> Iterable[Callable[..., Any] | None]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _has_input(dependant: Dependant) -> bool:
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
    ) or any(_has_input(dependency) for dependency in dependant.dependencies)


def problem_statuses(
    route: APIRoute, method: str, authenticated_by: frozenset[Callable[..., Any]]
) -> set[int]:
    """The 4xx answers an operation can give, by what it reads and who may call it."""
    statuses = {status for status in route.responses if isinstance(status, int) and status >= 400}
    if _has_input(route.dependant):
        # What a request names (a path or query id, an id in the body) may not exist.
        statuses |= {404, 422}
    if route.body_field is not None:
        statuses |= {400, 413}
    if authenticated_by.intersection(_calls(route.dependant)):
        statuses |= {401, 403}
    if method in UNSAFE_METHODS:
        statuses |= {404, 409}
    return statuses


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": PROBLEM_DESCRIPTIONS.get(status, "A problem."),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def describe_problems(
    document: dict[str, Any],
    routes: Iterable[Any],
    authenticated_by: frozenset[Callable[..., Any]],
) -> None:
    """Add every operation's problem answers to `document`, in place."""
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(problem_statuses(route, method, authenticated_by)):
                response = _problem_response(status)
                # A route's own description of a status says more than the general one.
                if described := responses.get(str(status), {}).get("description"):
                    response["description"] = described
                responses[str(status)] = response
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem


def install_problem_document(app: FastAPI, authenticated_by: Iterable[Callable[..., Any]]) -> None:
    """Make `app.openapi()` describe every operation's problems. `authenticated_by` are the
    dependencies that find the caller: a route that uses one can answer 401 and 403."""
    generate = app.openapi
    callers = frozenset(authenticated_by)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            describe_problems(document, app.routes, callers)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
