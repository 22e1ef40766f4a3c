from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from lectern.oidc.discovery import issuer_url_problem
from lectern.platform.schemas import Input, Output

_DOMAIN_LABEL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _issuer(value: str) -> str:
    if problem := issuer_url_problem(value):
        raise ValueError(f"the issuer {problem}")
    return value


def _email_domain(value: str) -> str:
    domain = value.strip().lower().removeprefix("@")
    labels = domain.split(".")
    if len(labels) < 2 or not all(
        label and len(label) <= 63 and set(label) <= _DOMAIN_LABEL and label[0] != "-"
        for label in labels
    ):
        raise ValueError("must be a domain name such as example.edu")
    return domain


Issuer = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_issuer)]
EmailDomain = Annotated[str, Field(min_length=3, max_length=253), AfterValidator(_email_domain)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
ClientId = Annotated[str, Field(min_length=1, max_length=255)]
ClientSecret = Annotated[str, Field(min_length=1, max_length=500)]


class ProviderIn(Input):
    name: Name
    issuer: Issuer
    client_id: ClientId
    client_secret: ClientSecret
    email_domain: EmailDomain
    enabled: bool = True


class ProviderPatch(Input):
    """Only the fields given change; a secret left out stays as it is."""

    name: Name | None = None
    issuer: Issuer | None = None
    client_id: ClientId | None = None
    client_secret: ClientSecret | None = None
    email_domain: EmailDomain | None = None
    enabled: bool | None = None


class ProviderOut(Output):
    """A provider as admins see it: its secret is never sent back."""

    id: int
    name: str
    issuer: str
    client_id: str
    email_domain: str
    enabled: bool
    redirect_uri: str
    sign_in_url: str
    created_at: datetime
    updated_at: datetime


class ConnectionOut(Output):
    ok: bool
    detail: str
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    jwks_uri: str | None = None
    signing_keys: int = 0


class SignInOut(Output):
    id: int
    user_id: int | None
    subject: str | None
    email: str | None
    outcome: str
    reason: str | None
    detail: str | None
    created_at: datetime


class OfferedProviderOut(Output):
    id: int
    name: str
    institution: str
    start_url: str
