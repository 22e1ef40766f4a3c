"""Every route, present and future, reads only what a column can hold: each integer it takes has
an upper bound, each body is an `Input` (no NUL, no lone surrogate, no NaN or infinity), and the
path, query string, headers and cookies pass the unstorable-text guard first."""

from collections.abc import Iterator
from typing import Annotated, Any, get_args

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from lectern.app import create_app
from lectern.platform.schemas import Input
from lectern.platform.storable import RefuseUnstorableText

REFUSED = r"NUL or a lone surrogate|valid string"
ROUTES = [route for route in create_app().routes if isinstance(route, APIRoute)]


def _label(route: APIRoute) -> str:
    return f"{sorted(route.methods)} {route.path}"


def _fields(dependant: Dependant, kinds: tuple[str, ...]) -> Iterator[Any]:
    """The parameters of a route's handler and of every dependency it has, at any depth."""
    for kind in kinds:
        yield from getattr(dependant, kind)
    for dependency in dependant.dependencies:
        yield from _fields(dependency, kinds)


def _bodies(route: APIRoute) -> list[Any]:
    return list(_fields(route.dependant, ("body_params",)))


def _parameters(route: APIRoute) -> Iterator[tuple[str, Any]]:
    kinds = ("path_params", "query_params", "header_params", "cookie_params", "body_params")
    for field in _fields(route.dependant, kinds):
        yield field.name, Annotated[field.field_info.annotation, field.field_info]


def _unbounded_integers(schema: Any, where: str) -> Iterator[str]:
    if isinstance(schema, dict):
        if schema.get("type") == "integer" and not {"maximum", "exclusiveMaximum"} & set(schema):
            yield where
        for key, value in schema.items():
            yield from _unbounded_integers(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _unbounded_integers(value, f"{where}[{index}]")


def _models(annotation: Any, seen: set[type]) -> Iterator[type]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models(field.annotation, seen)
        return
    for argument in get_args(annotation):
        yield from _models(argument, seen)


def test_the_app_has_routes_to_check() -> None:
    assert len(ROUTES) > 50
    assert any(_bodies(route) for route in ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=_label)
def test_every_integer_a_route_reads_has_an_upper_bound(route: APIRoute) -> None:
    unbounded = [
        where
        for name, annotation in _parameters(route)
        for where in _unbounded_integers(TypeAdapter(annotation).json_schema(), name)
    ]

    assert unbounded == [], f"{_label(route)}: integers without a maximum: {unbounded}"


@pytest.mark.parametrize("route", [r for r in ROUTES if _bodies(r)], ids=_label)
def test_every_request_body_is_made_of_input_models(route: APIRoute) -> None:
    models = [
        model for field in _bodies(route) for model in _models(field.field_info.annotation, set())
    ]

    assert models, f"{_label(route)}: a body that is not a model escapes Input's checks"
    assert all(issubclass(model, Input) for model in models), models
    assert all(model.model_config.get("allow_inf_nan") is False for model in models), models


def test_the_unstorable_text_guard_wraps_the_app() -> None:
    assert any(m.cls is RefuseUnstorableText for m in create_app().user_middleware)


@pytest.mark.parametrize(
    "value", ["a\x00b", "\x00", "a\ud800", "\udfff"], ids=["nul", "only-nul", "high", "low"]
)
def test_an_input_refuses_unstorable_text_at_any_depth(value: str) -> None:
    class Leaf(Input):
        text: str

    class Tree(Input):
        names: list[str] = []
        tags: dict[str, str] = {}
        leaves: list[Leaf] = []

    for data in ({"names": [value]}, {"tags": {"k": value}}, {"tags": {value: "v"}}):
        with pytest.raises(ValueError, match=REFUSED):
            Tree.model_validate(data)
    with pytest.raises(ValueError, match=REFUSED):
        Tree.model_validate({"leaves": [{"text": value}]})
