"""The JSON of the LTI admin API."""

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from lectern.lti.claims import is_web_url
from lectern.platform.config import get_settings
from lectern.platform.outbound_http import host_problem
from lectern.platform.schemas import Input, Output


def _web_url(url: str) -> str:
    if not is_web_url(url):
        raise ValueError("must be an https URL (http only to this machine)")
    parts, settings = urlsplit(url), get_settings()
    loopback = parts.scheme == "http" and settings.environment == "development"
    if problem := host_problem(
        parts.hostname or "", private_networks=settings.outbound_private_networks, loopback=loopback
    ):
        raise ValueError(f"must reach a public address: {problem}")
    return url


WebUrl = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_web_url)]
DeploymentId = Annotated[str, Field(min_length=1, max_length=255)]


class PlatformIn(Input):
    name: str = Field(min_length=1, max_length=200)
    issuer: str = Field(min_length=1, max_length=500)
    client_id: str = Field(min_length=1, max_length=255)
    deployment_ids: list[DeploymentId] = Field(min_length=1, max_length=100)
    jwks_url: WebUrl
    auth_login_url: WebUrl
    auth_token_url: WebUrl | None = None


class PlatformChange(Input):
    """The fields to change; those left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    issuer: str | None = Field(default=None, min_length=1, max_length=500)
    client_id: str | None = Field(default=None, min_length=1, max_length=255)
    deployment_ids: list[DeploymentId] | None = Field(default=None, min_length=1, max_length=100)
    jwks_url: WebUrl | None = None
    auth_login_url: WebUrl | None = None
    auth_token_url: WebUrl | None = None


class PlatformOut(Output):
    id: int
    name: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    jwks_url: str
    auth_login_url: str
    auth_token_url: str | None
    created_at: datetime
    updated_at: datetime


class ToolOut(Output):
    """What an admin enters in the platform when adding Lectern as a tool."""

    login_url: str
    launch_url: str
    jwks_url: str
    deep_linking_url: str


class ConnectionOut(Output):
    reachable: bool
    keys: int
    detail: str


class LaunchOut(Output):
    id: int
    platform_id: int
    message_type: str | None
    outcome: str
    reason: str | None
    subject: str | None
    user_id: int | None
    course_id: int | None
    created_at: datetime


class ScoreOut(Output):
    id: int
    platform_id: int
    user_id: int
    course_id: int
    status: str
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class RotatedOut(Output):
    kid: str
