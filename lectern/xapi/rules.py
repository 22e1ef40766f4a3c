"""Pure rules of xAPI destinations: which endpoints Lectern sends credentials to."""

from urllib.parse import urlsplit

import httpx

from lectern.platform.outbound_http import host_problem

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def endpoint_problem(
    endpoint: str, *, allow_loopback_http: bool, private_networks: bool = False
) -> str | None:
    """Why Lectern will not send statements (and a Basic secret) to `endpoint`, or None.

    It is the LRS's xAPI base, to which `/statements` and `/about` are added: https, with a
    host, and nothing that would be lost or leaked on the way (credentials in the URL, a query,
    a fragment). Plain http only to this machine, and only where the settings allow it. A host
    that is an address of this machine or of a private network is refused unless allowed; a
    name is checked when statements are sent (lectern.platform.outbound_http).
    """
    if any(character.isspace() or not character.isprintable() for character in endpoint):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
        httpx.URL(endpoint)
    except (ValueError, httpx.InvalidURL):
        return "is not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an https URL such as https://lrs.example.edu/xAPI"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials: give the key and secret in their own fields"
    if parts.query or parts.fragment or endpoint.endswith(("?", "#")):
        return "must have no query or fragment"
    if port == 0:
        return "has no usable port"
    if parts.scheme == "http" and not (allow_loopback_http and parts.hostname in LOOPBACK_HOSTS):
        return "must use https: the LRS's Basic credentials would travel in the clear"
    loopback = allow_loopback_http and parts.scheme == "http"
    if problem := host_problem(
        parts.hostname, private_networks=private_networks, loopback=loopback
    ):
        return f"must reach a public address: {problem}"
    return None


def endpoint_base(endpoint: str) -> str:
    """The endpoint as stored: without a trailing slash."""
    return endpoint.rstrip("/")
