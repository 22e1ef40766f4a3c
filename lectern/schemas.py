"""Base classes for the JSON the API reads and writes."""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """Request bodies: unknown fields and coerced types are rejected, not guessed at."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)
