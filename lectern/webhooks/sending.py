"""Webhooks as an outbound kind: one signed POST per event, in id order, to each subscription's
URL; a subscription that keeps failing is paused and its institution's admins get an e-mail."""

import asyncio
import ssl
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.rules import LoggedEvent
from lectern.mail.outbox import enqueue_to_admins, origin
from lectern.models import WebhookSubscription
from lectern.models.base import utcnow
from lectern.models.mail import MailKind
from lectern.outbound.kinds import Accepted, OutboundKind, Paused, SendFailed
from lectern.platform.config import get_settings
from lectern.platform.outbound_http import failure_message, guarded_client
from lectern.webhooks import rules

KIND = "webhook"
USER_AGENT = "Lectern-Webhooks/1"
# The worker bounds each attempt (LECTERN_OUTBOUND_TIMEOUT_SECONDS); this only backs it up.
HTTP_TIMEOUT = 60.0
ANSWER_SHOWN = 300
# Events per attempt: each is a request of its own, sent in order in one claim of the subscription.
BATCH = 25


@dataclass(frozen=True)
class Endpoint:
    """What sending to a subscription needs, read when its worker claims it."""

    id: int
    institution_id: int
    url: str
    description: str
    event_types: frozenset[str]
    secrets: tuple[str, ...]


@cache
def _tls() -> ssl.SSLContext:
    """One verifying context for every request: building it reads the system's certificates."""
    return ssl.create_default_context()


def client(*, private_networks: bool, loopback_http: bool) -> httpx.AsyncClient:
    """A client that reaches only the addresses the settings allow (outbound_http)."""
    return guarded_client(
        private_networks=private_networks,
        loopback_http=loopback_http,
        timeout=HTTP_TIMEOUT,
        follow_redirects=False,
        verify=_tls(),
        headers={"user-agent": USER_AGENT},
    )


def endpoint_of(subscription: WebhookSubscription, now: datetime) -> Endpoint:
    secrets = [subscription.secret]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and until > now:
        secrets.append(subscription.previous_secret)
    return Endpoint(
        id=subscription.id,
        institution_id=subscription.institution_id,
        url=subscription.url,
        description=subscription.description,
        event_types=frozenset(subscription.event_types),
        secrets=tuple(secrets),
    )


async def load(session: AsyncSession, destination_id: int) -> Endpoint | None:
    subscription = await session.get(WebhookSubscription, destination_id)
    return None if subscription is None else endpoint_of(subscription, utcnow())


async def post(
    http: httpx.AsyncClient, endpoint: Endpoint, msg_id: str, payload: bytes
) -> httpx.Response:
    """POST one signed message; the signature is made now, with the time it is sent."""
    headers = rules.signed_headers(msg_id, payload, utcnow(), endpoint.secrets)
    return await http.post(endpoint.url, content=payload, headers=headers)


def refusal(response: httpx.Response) -> SendFailed:
    answer = response.text[:ANSWER_SHOWN].strip()
    error = f"{response.status_code} {response.reason_phrase}".strip()
    return SendFailed(f"{error}: {answer}" if answer else error, http_status=response.status_code)


async def send(endpoint: Endpoint, events: list[LoggedEvent]) -> Accepted:
    """POST the events one by one, in order. A refusal after some were taken ends the attempt
    with those (the next one starts at the refused event and fails as itself), and so does half
    of the attempt's time: a slow endpoint moves on a little every attempt instead of timing out
    with everything it took."""
    loop = asyncio.get_running_loop()
    stop_after = loop.time() + get_settings().outbound_timeout_seconds / 2
    status, taken = None, None
    # Plain http to this machine was allowed, or not, when the URL was saved.
    settings = get_settings()
    async with client(
        private_networks=settings.outbound_private_networks, loopback_http=True
    ) as http:
        for event in events:
            if taken is not None and loop.time() > stop_after:
                break
            try:
                response = await post(
                    http, endpoint, rules.message_id(event.id), rules.event_body(event)
                )
            except httpx.HTTPError as error:
                if taken is not None:
                    break
                raise SendFailed(failure_message(error)) from error
            if not response.is_success:
                if taken is not None:
                    break
                raise refusal(response)
            status, taken = response.status_code, event.id
    return Accepted(status, through=taken)


def takes(endpoint: Endpoint, event: LoggedEvent) -> bool:
    return event.type in endpoint.event_types


async def tell_admins(session: AsyncSession, endpoint: Endpoint, paused: Paused) -> None:
    """An e-mail to each admin of the institution that the subscription was paused."""
    await enqueue_to_admins(
        session,
        endpoint.institution_id,
        MailKind.INTEGRATION_PAUSED,
        {
            "integration": "Webhook",
            "destination": endpoint.description or endpoint.url,
            "failures": paused.failures,
            "error": paused.error,
            "link": f"{origin(get_settings())}/admin/webhooks",
        },
    )


WEBHOOKS: OutboundKind[Endpoint] = OutboundKind(
    name=KIND,
    load=load,
    send=send,
    select=takes,
    event_types=lambda endpoint: endpoint.event_types,
    on_paused=tell_admins,
    # One message per request, as Standard Webhooks has it; each gets its own delivery row.
    batch_size=BATCH,
)
