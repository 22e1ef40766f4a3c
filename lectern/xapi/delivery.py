"""Sending statements to a learning record store: xAPI's REST interface, HTTP Basic auth.

A batch of logged events becomes one `POST {endpoint}/statements` with the JSON array of their
statements, in event order (lectern.outbound moves the cursor and retries; the statement ids
make a resent batch harmless: the LRS keeps what it has and answers 200 or 204).
"""

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

import httpx
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events.rules import LoggedEvent
from lectern.mail.outbox import enqueue_to_admins, origin
from lectern.models import XapiDestination
from lectern.models.mail import MailKind
from lectern.outbound.kinds import Accepted, OutboundKind, Paused, SendFailed
from lectern.platform.config import get_settings
from lectern.platform.outbound_http import RefusedDestination, failure_message, guarded_client
from lectern.xapi.statements import STATEMENT_EVENTS, XAPI_VERSION, Statement, statements_for

KIND = "xapi"
ANSWER_LIMIT = 300

STATEMENTS_SENT = Counter(
    "lectern_xapi_statements_sent", "Statements a learning record store accepted."
)


@dataclass(frozen=True)
class Lrs:
    """What sending needs of a destination."""

    id: int
    institution_id: int
    name: str
    endpoint: str
    key: str
    secret: str
    namespace: UUID
    origin: str

    def statements(self, events: list[LoggedEvent]) -> list[Statement]:
        made: list[Statement] = []
        for event in events:
            made += statements_for(
                namespace=self.namespace,
                origin=self.origin,
                event_id=event.id,
                event_type=event.type,
                user_id=event.user_id,
                payload=event.payload,
                created_at=event.created_at,
            )
        return made


def headers() -> dict[str, str]:
    return {"X-Experience-API-Version": XAPI_VERSION}


async def load_lrs(session: AsyncSession, destination_id: int) -> Lrs | None:
    row = await session.scalar(select(XapiDestination).where(XapiDestination.id == destination_id))
    if row is None:
        return None
    return Lrs(
        id=row.id,
        institution_id=row.institution_id,
        name=row.name,
        endpoint=row.endpoint,
        key=row.key,
        secret=row.secret,
        namespace=UUID(row.statement_namespace),
        origin=row.activity_origin,
    )


async def post_statements(lrs: Lrs, statements: list[Statement]) -> httpx.Response:
    # Plain http to this machine was allowed, or not, when the endpoint was saved.
    async with guarded_client(
        private_networks=get_settings().outbound_private_networks,
        loopback_http=True,
        auth=(lrs.key, lrs.secret),
        headers=headers(),
    ) as http:
        return await http.post(f"{lrs.endpoint}/statements", json=statements)


async def send_statements(lrs: Lrs, events: list[LoggedEvent]) -> Accepted:
    statements = lrs.statements(events)
    if not statements:
        return Accepted()
    try:
        answer = await post_statements(lrs, statements)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise SendFailed(failure_message(error)) from error
    if answer.status_code not in (200, 204):
        said = answer.text[:ANSWER_LIMIT]
        raise SendFailed(f"{answer.status_code} {said}", http_status=answer.status_code)
    STATEMENTS_SENT.inc(len(statements))
    return Accepted(answer.status_code)


def makes_statements(_lrs: Lrs, event: LoggedEvent) -> bool:
    return event.user_id is not None and event.type in STATEMENT_EVENTS


def statement_event_types(_lrs: Lrs) -> Collection[str]:
    return STATEMENT_EVENTS


async def tell_admins(session: AsyncSession, lrs: Lrs, paused: Paused) -> None:
    """An e-mail to each admin of the institution that delivery to the LRS was paused."""
    await enqueue_to_admins(
        session,
        lrs.institution_id,
        MailKind.INTEGRATION_PAUSED,
        {
            "integration": "Learning record store",
            "destination": lrs.name or lrs.endpoint,
            "failures": paused.failures,
            "error": paused.error,
            "link": f"{origin(get_settings())}/admin/xapi",
        },
    )


XAPI: OutboundKind[Lrs] = OutboundKind(
    name=KIND,
    load=load_lrs,
    send=send_statements,
    select=makes_statements,
    event_types=statement_event_types,
    on_paused=tell_admins,
    batch_size=50,
)


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    detail: str
    about_status: int | None = None
    versions: tuple[str, ...] = ()
    statements_status: int | None = None


async def check_connection(
    endpoint: str,
    key: str,
    secret: str,
    answer_within: float,
    *,
    private_networks: bool,
    loopback_http: bool,
) -> ConnectionCheck:
    """Ask the LRS now: `GET {endpoint}/about` (its xAPI versions; not every LRS has it) and
    `GET {endpoint}/statements?limit=1` with the credentials, which must be taken."""
    async with guarded_client(
        private_networks=private_networks,
        loopback_http=loopback_http,
        headers=headers(),
        timeout=answer_within,
    ) as http:
        try:
            about = await http.get(f"{endpoint}/about")
            statements = await http.get(
                f"{endpoint}/statements", params={"limit": 1}, auth=(key, secret)
            )
        except RefusedDestination as refused:
            return ConnectionCheck(False, str(refused))
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return ConnectionCheck(
                False, f"The LRS did not answer: {type(error).__name__}: {error}"
            )
    versions = _versions(about)
    if statements.status_code in (401, 403):
        detail = f"The LRS refused the key and secret ({statements.status_code})."
    elif statements.status_code != 200:
        said = statements.text[:ANSWER_LIMIT]
        detail = f"The LRS answered {statements.status_code} to reading statements: {said}"
    else:
        detail = "The LRS took the key and secret."
        if versions:
            detail += f" It speaks xAPI {', '.join(versions)}."
    return ConnectionCheck(
        statements.status_code == 200,
        detail,
        about.status_code,
        versions,
        statements.status_code,
    )


def _versions(about: httpx.Response) -> tuple[str, ...]:
    if about.status_code != 200:
        return ()
    try:
        found = about.json().get("version", [])
    except (ValueError, AttributeError):
        return ()
    return (
        tuple(str(v) for v in found if isinstance(v, str))[:10] if isinstance(found, list) else ()
    )
