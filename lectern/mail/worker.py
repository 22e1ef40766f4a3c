"""The mail worker: sends the outbox after commit, with retries, backoff and daily digests.

Exactly once, as far as SMTP allows. On PostgreSQL a worker claims one due message with
`SELECT … FOR UPDATE SKIP LOCKED`, keeps that transaction open while it hands the message to
the SMTP server, and records the outcome (sent, or when to try again) in that same transaction:
several workers never claim one message, and a worker killed before the server accepted the
message leaves it claimable again, unchanged, when its connection closes. On SQLite the one
worker takes a due message by moving its next attempt past the longest send (`LEASE`) in a write
of its own, which only one of several workers on the file can do, then sends it and records the
outcome. The only window left is a crash between the server's acceptance and the commit of
"sent": the message then goes out again, with the same Message-ID, by which mail systems and
readers recognise it.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from functools import partial

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.mail.compose import email_message
from lectern.mail.digest import fold_digests
from lectern.models import OutboxMessage
from lectern.models.base import utcnow
from lectern.models.mail import MailStatus
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.lease import while_leased
from lectern.platform.rounds import Rounds

log = logging.getLogger(__name__)

Send = Callable[[EmailMessage], Awaitable[object]]
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
SEND_TIMEOUT_S = 30
LEASE = timedelta(minutes=5)  # longer than a send, whose every SMTP step waits SEND_TIMEOUT_S


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failure a message is tried again: doubling each time."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def is_permanent(error: Exception) -> bool:
    """A 5xx answer: the server will not take this message however often it is offered."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refused.code < 600 for refused in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and 500 <= error.code < 600


@dataclass(frozen=True)
class Outcome:
    message_id: int
    status: MailStatus
    attempts: int
    next_attempt_at: datetime
    error: str | None = None


def smtp_sender(settings: Settings) -> Send:
    async def send(message: EmailMessage) -> object:
        # Flattened with the message's own policy: aiosmtplib's would fold List-Unsubscribe.
        return await aiosmtplib.send(
            message.as_bytes(),
            sender=parseaddr(str(message["From"]))[1],
            recipients=[parseaddr(str(message["To"]))[1]],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=SEND_TIMEOUT_S,
        )

    return send


class MailWorker:
    """One per process; safe with several on PostgreSQL."""

    def __init__(self, database: Database, settings: Settings, send: Send | None = None) -> None:
        self.database = database
        self.settings = settings
        self.send = send or smtp_sender(settings)
        self.rounds = Rounds(
            self.deliver_due, name="the mail worker", pause=settings.mail_poll_seconds
        )

    async def deliver_next(self, now: datetime | None = None) -> Outcome | None:
        """Send the oldest due message and record the outcome; None when none is due."""
        now = now or utcnow()
        if self.database.is_postgres:
            async with self.database.sessionmaker() as session, session.begin():
                message = await _due(session, now, claim=True)
                if message is None:
                    return None
                outcome = await self._attempt(message, now)
                await _record(session, outcome)
            return outcome
        return await self._deliver_leased(now)

    async def _deliver_leased(self, now: datetime) -> Outcome | None:
        """SQLite: send the oldest due message that no other worker holds."""
        while True:
            async with self.database.session() as session:
                message = await _due(session, now, claim=False)
            if message is None:
                return None
            outcome = await while_leased(
                self.database,
                message,
                pending=MailStatus.PENDING,
                now=now,
                lease=LEASE,
                send=partial(self._attempt, message, now),
            )
            if outcome is not None:
                await self.database.run(partial(_record, outcome=outcome, unclaimed=True))
                return outcome

    async def _attempt(self, message: OutboxMessage, now: datetime) -> Outcome:
        try:
            await self.send(
                email_message(
                    sender=self.settings.smtp_from,
                    to=message.to_address,
                    subject=message.subject,
                    text=message.text_body,
                    html=message.html_body,
                    message_id=message.message_id,
                    unsubscribe_url=message.unsubscribe_url,
                )
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            attempts = message.attempts + 1
            gave_up = attempts >= MAX_ATTEMPTS or is_permanent(error)
            log.warning("mail %d to %s refused: %s", message.id, message.to_address, error)
            return Outcome(
                message.id,
                MailStatus.FAILED if gave_up else MailStatus.PENDING,
                attempts,
                now + retry_delay(attempts),
                str(error)[:1000],
            )
        return Outcome(message.id, MailStatus.SENT, message.attempts + 1, now)

    async def deliver_due(self, now: datetime | None = None) -> list[Outcome]:
        """Fold the digests that are due, then send every due message."""
        await self.database.run(lambda s: fold_digests(s, now or utcnow()))
        outcomes = []
        while (outcome := await self.deliver_next(now)) is not None:
            outcomes.append(outcome)
        return outcomes


async def _due(session: AsyncSession, now: datetime, *, claim: bool) -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    if claim:
        query = query.with_for_update(skip_locked=True)
    message: OutboxMessage | None = await session.scalar(query)
    return message


async def _record(session: AsyncSession, outcome: Outcome, *, unclaimed: bool = False) -> None:
    """Write the outcome of an attempt; unclaimed (SQLite), only if nothing else recorded one."""
    statement = update(OutboxMessage).where(OutboxMessage.id == outcome.message_id)
    if unclaimed:
        statement = statement.where(
            OutboxMessage.status == MailStatus.PENDING,
            OutboxMessage.attempts == outcome.attempts - 1,
        )
    await session.execute(
        statement.values(
            status=outcome.status,
            attempts=outcome.attempts,
            next_attempt_at=outcome.next_attempt_at,
            last_error=outcome.error,
            sent_at=outcome.next_attempt_at if outcome.status == MailStatus.SENT else None,
        )
    )
