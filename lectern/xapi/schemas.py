from datetime import datetime
from typing import Annotated

from pydantic import Field

from lectern.platform.schemas import Input, Output

Name = Annotated[str, Field(max_length=200)]
Endpoint = Annotated[str, Field(min_length=1, max_length=2000)]
Key = Annotated[str, Field(min_length=1, max_length=200)]
Secret = Annotated[str, Field(min_length=1, max_length=500)]


class DestinationIn(Input):
    name: Name = ""
    endpoint: Endpoint
    key: Key
    secret: Secret
    enabled: bool = True


class DestinationPatch(Input):
    """Only the fields given change; a secret left out stays as it is."""

    name: Name | None = None
    endpoint: Endpoint | None = None
    key: Key | None = None
    secret: Secret | None = None
    enabled: bool | None = None


class DestinationOut(Output):
    """A learning record store as admins see it, with its delivery state; never its secret."""

    id: int
    name: str
    endpoint: str
    key: str
    enabled: bool
    # active, or paused (disabled, or stopped after failing too often in a row)
    status: str
    delivered_through: int
    consecutive_failures: int
    last_error: str | None
    next_attempt_at: datetime
    paused_at: datetime | None
    activity_origin: str
    created_at: datetime
    updated_at: datetime


class ConnectionOut(Output):
    """What `GET {endpoint}/about` and an authenticated `GET {endpoint}/statements?limit=1`
    answered: `ok` when the LRS took the credentials."""

    ok: bool
    detail: str
    about_status: int | None = None
    versions: list[str] = []
    statements_status: int | None = None
