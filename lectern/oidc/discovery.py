"""What a provider says about itself: its discovery document and its signing keys (JWKS).

Fetched over HTTPS from public addresses (plain HTTP only on the machine's own loopback address,
in development; lectern.platform.outbound_http),
checked, and kept for a few minutes per process. The admins' connection test fetches afresh.
"""

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lectern.oidc.errors import ProviderUnreachable
from lectern.platform.config import get_settings
from lectern.platform.outbound_http import GuardedTransport, host_problem

KEPT_SECONDS = 300.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_LOOPBACK_NAMES = {"localhost"}


def issuer_url_problem(url: str) -> str | None:
    """Why `url` cannot be an issuer or an endpoint, or None if it can."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if not host or parts.query or parts.fragment:
        return "must be an absolute URL without a query or fragment"
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return "must use https (http only on this machine's loopback address)"
    settings = get_settings()
    loopback = parts.scheme == "http" and settings.environment == "development"
    if problem := host_problem(
        host, private_networks=settings.outbound_private_networks, loopback=loopback
    ):
        return f"must reach a public address: {problem}"
    return None


def transport() -> GuardedTransport:
    """The way to a provider: public addresses only (outbound_http), plain http to this machine
    only in development, where a provider may run beside Lectern."""
    settings = get_settings()
    return GuardedTransport(
        private_networks=settings.outbound_private_networks,
        loopback_http=settings.environment == "development",
    )


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    signing_algorithms: tuple[str, ...]
    token_auth_method: str  # client_secret_basic or client_secret_post
    jwks: dict[str, Any]
    fetched_at: float

    @property
    def key_count(self) -> int:
        return len(self.jwks.get("keys", []))


_kept: dict[str, ProviderMetadata] = {}


async def provider_metadata(issuer: str, *, fresh: bool = False) -> ProviderMetadata:
    """The provider's discovery document and keys, fetched at most every few minutes."""
    kept = _kept.get(issuer)
    if kept is not None and not fresh and time.monotonic() - kept.fetched_at < KEPT_SECONDS:
        return kept
    metadata = await _fetch(issuer)
    _kept[issuer] = metadata
    return metadata


async def _fetch(issuer: str) -> ProviderMetadata:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    async with httpx.AsyncClient(
        transport=transport(), trust_env=False, timeout=TIMEOUT, follow_redirects=False
    ) as http:
        document = await _json(http, url, "discovery document")
        if document.get("issuer") != issuer:
            raise ProviderUnreachable(
                f"The discovery document names the issuer {document.get('issuer')!r},"
                f" not {issuer!r}."
            )
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or issuer_url_problem(value):
                raise ProviderUnreachable(f"The discovery document's {name} is missing or unsafe.")
            endpoints[name] = value
        jwks = await _json(http, endpoints["jwks_uri"], "key set")
    try:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ProviderUnreachable(f"The provider's key set is not a valid JWKS: {exc}") from exc
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        # "none" never signs in anyone.
        signing_algorithms=tuple(str(a) for a in algorithms if a != "none"),
        token_auth_method=(
            "client_secret_post"
            if "client_secret_basic" not in methods and "client_secret_post" in methods
            else "client_secret_basic"
        ),
        jwks=jwks,
        fetched_at=time.monotonic(),
    )


async def _json(http: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(f"The provider's {what} could not be fetched: {exc}") from exc
    if response.status_code != 200:
        raise ProviderUnreachable(
            f"The provider's {what} answered HTTP {response.status_code} at {url}."
        )
    try:
        document = response.json()
    except ValueError as exc:
        raise ProviderUnreachable(f"The provider's {what} is not JSON.") from exc
    if not isinstance(document, dict):
        raise ProviderUnreachable(f"The provider's {what} is not a JSON object.")
    return document
