"""Base classes for the JSON the API reads and writes."""

from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field


class Input(BaseModel):
    """Request bodies: unknown fields and coerced types are rejected, not guessed at."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Row ids are 32-bit integers in PostgreSQL: a larger number names no row and must not reach
# the driver, which would refuse it with a server error.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
