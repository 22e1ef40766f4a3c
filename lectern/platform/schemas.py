"""Base classes for the JSON the API reads and writes."""

from collections.abc import Sequence
from typing import Annotated, Any, Self, TypeVar

from fastapi import Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import Row

from lectern.platform.storable import UNSTORABLE_MESSAGE, all_storable


class Input(BaseModel):
    """Request bodies: unknown fields and coerced types are rejected, not guessed at, and so is
    what no column can hold: NaN and infinities (which Python's JSON parser accepts), NUL and
    lone surrogates in any string."""

    model_config = ConfigDict(
        extra="forbid", strict=True, str_strip_whitespace=True, allow_inf_nan=False
    )

    @model_validator(mode="after")
    def _storable_text(self) -> Self:
        for name, value in self:
            if not all_storable(value):
                raise PydanticCustomError(
                    "unstorable_text", "{field} " + UNSTORABLE_MESSAGE, {"field": name}
                )
        return self


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Model = TypeVar("Model", bound=Output)


def outputs(model: type[Model], rows: Sequence[Row[Any]]) -> list[Model]:
    """`model`s of result rows, their columns named as its fields: each row made a dict first,
    which pydantic validates several times faster than a row's mapping."""
    if not rows:
        return []
    names = rows[0]._fields
    return [model.model_validate(dict(zip(names, row, strict=True))) for row in rows]


# Row ids are 32-bit integers in PostgreSQL: a larger number names no row and must not reach
# the driver, which would refuse it with a server error.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
# A page of a list starts at most this many rows in: no list has more rows than ids.
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
# Event ids are 64-bit; a client's last seen one (query or Last-Event-ID header) is at most that.
MAX_EVENT_ID = 2**63 - 1
QueryEventId = Annotated[
    int | None,
    Query(
        ge=0, le=MAX_EVENT_ID, description="For clients that cannot send the Last-Event-ID header."
    ),
]
HeaderEventId = Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=MAX_EVENT_ID)]
