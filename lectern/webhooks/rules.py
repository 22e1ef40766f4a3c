"""Pure rules of webhooks: which URLs may receive them, which event types exist, what a message
says and how it is signed (the Standard Webhooks scheme)."""

import base64
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from lectern.events.rules import LoggedEvent
from lectern.events.types import CATALOGUE
from lectern.platform.outbound_http import host_problem

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
LOOPBACK = "127.0.0.1"
# The message of "test connection": not an event of the log, so no event id.
TEST_TYPE = "webhook.test"
# A DNS name in ASCII (an internationalised one in its xn-- form).
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


class RefusedUrl(ValueError):
    pass


def check_url(url: str, *, allow_loopback_http: bool, private_networks: bool = False) -> str:
    """The URL if deliveries may go there: https, a host, no credentials or fragment; plain http
    only to 127.0.0.1 and only when allowed (a receiver on this machine, in tests). A host that
    is an address of this machine or of a private network is refused unless allowed; a name is
    checked when a message is sent (lectern.platform.outbound_http)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedUrl(f"not a URL: {error}") from error
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedUrl("must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("must not carry a user name or password; the signature authenticates")
    if parts.fragment:
        raise RefusedUrl("must not have a #fragment")
    if port == 0:
        raise RefusedUrl("port 0 is not a port")
    if not _is_host(parts.hostname):
        raise RefusedUrl("must name a host: a DNS name (xn-- form for others than ASCII) or an IP")
    if parts.scheme == "http" and not (allow_loopback_http and _is_loopback(parts.hostname)):
        raise RefusedUrl("must be https://")
    loopback = allow_loopback_http and parts.scheme == "http"
    if problem := host_problem(
        parts.hostname, private_networks=private_networks, loopback=loopback
    ):
        raise RefusedUrl(f"must reach a public address: {problem}")
    return url


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.removesuffix(".").split(".")
        return len(host) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _is_loopback(host: str) -> bool:
    try:
        return str(ipaddress.ip_address(host)) == LOOPBACK
    except ValueError:
        return False


def unknown_types(event_types: Iterable[str]) -> list[str]:
    """The names that are not event types of the catalogue (lectern.events.types)."""
    return [name for name in event_types if name not in CATALOGUE]


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as Standard Webhooks' libraries read it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def message_id(event_id: int) -> str:
    """The `webhook-id` of the message of an event: the same at every attempt and replay, so a
    receiver drops a second copy."""
    return f"evt_{event_id}"


def body(event_type: str, timestamp: datetime, data: dict[str, object]) -> bytes:
    """The JSON body: the event's type, when it happened and its payload (its catalogue type's
    fields, as the log stores them)."""
    document = {"type": event_type, "timestamp": timestamp.isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def event_body(event: LoggedEvent) -> bytes:
    return body(event.type, event.created_at, event.payload)


def signed_headers(
    msg_id: str, payload: bytes, sent_at: datetime, secrets_in_use: Iterable[str]
) -> dict[str, str]:
    """The Standard Webhooks headers: one signature per secret in use (during a rotation the
    old one signs too, so a receiver that still has it accepts the message)."""
    signatures = [Webhook(secret).sign(msg_id, sent_at, payload) for secret in secrets_in_use]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
