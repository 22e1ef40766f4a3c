"""One worker per integration kind and process: it finds due destinations, sends each its next
batch and moves its cursor. lectern.outbound explains the guarantees."""

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic

from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events import inflight, log
from lectern.events.rules import LoggedEvent
from lectern.models.base import utcnow
from lectern.models.outbound import DeliveryStatus, DestinationStatus
from lectern.outbound import metrics, records
from lectern.outbound.kinds import Accepted, OutboundKind, Paused, SendFailed, Target
from lectern.outbound.records import Claimed
from lectern.outbound.rules import Plan, plan, retry_delay, should_pause
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.rounds import Rounds

logger = logging.getLogger(__name__)

# Commits that land while a round runs are taken together by the next, at most this often.
ROUND_SPACING = 0.1


@dataclass(frozen=True)
class Attempt:
    """What one step did for one destination."""

    destination_id: int
    # sent, failed, passed (nothing in the scanned events was for it; the cursor moved on),
    # set aside (the integration had nothing to send with), or dropped (see _record)
    outcome: str
    through: int  # the destination's cursor afterwards
    event_ids: tuple[int, ...] = ()
    http_status: int | None = None
    error: str | None = None
    paused: bool = False


@dataclass(frozen=True)
class _Sent:
    ok: bool
    http_status: int | None
    response_ms: int
    error: str | None
    through: int | None = None  # the last event the destination took, when not all


class OutboundWorker(Generic[Target]):
    """Delivers one integration kind's destinations; safe with several at once on PostgreSQL."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        kind: OutboundKind[Target],
        *,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.database = database
        self.settings = settings
        self.kind = kind
        self.jitter = jitter
        self._head = inflight.LogHead()
        # Whether the last round found an active destination: with none, commits wake nobody.
        self._any_active = True
        self.rounds = Rounds(
            self.deliver_due,
            name=f"the {kind.name} delivery worker",
            pause=settings.outbound_poll_seconds,
            spacing=ROUND_SPACING,
        )

    def wake(self, _event_id: int = 0) -> None:
        if self._any_active:
            self.rounds.wake()

    async def head(self) -> int:
        """The newest event id at or below which every event is final (lectern.live.pump)."""
        async with self.database.reader() as reader:
            final = await self._head.final_up_to(reader)
            return await log.last_id(reader, final.upto)

    async def deliver_due(self, now: datetime | None = None) -> list[Attempt]:
        """Take every due destination of the kind one step at a time until none is due."""
        head = await self.head()
        attempts = []
        while (attempt := await self.deliver_next(head, now)) is not None:
            attempts.append(attempt)
        await self._measure_lag(head)
        return attempts

    async def deliver_next(self, head: int, now: datetime | None = None) -> Attempt | None:
        """Send the next batch of the due destination waited on longest, and record the
        outcome; None when no destination of the kind is due with events up to `head`.

        PostgreSQL: claimed `FOR UPDATE SKIP LOCKED` in a transaction that stays open while
        the batch is sent and records the outcome, cursor and all: no two workers send one
        destination anything at once, and a worker killed before its commit leaves the
        destination as it was (the batch goes again, with the same message ids). SQLite (one
        process): read, send, then record only if the destination did not change meanwhile."""
        now = now or utcnow()
        if self.database.is_postgres:
            async with self.database.sessionmaker() as session, session.begin():
                claimed = await records.claim(session, self.kind.name, head, now, lock=True)
                if claimed is None:
                    return None
                step = await self._step(session, claimed, head)
                if step is None:
                    return await self._set_aside(session, claimed, now)
                target, chosen = step
                sent = await self._send(target, chosen.batch)
                return await self._record(session, claimed, target, chosen, sent, now)
        async with self.database.session() as session:
            claimed = await records.claim(session, self.kind.name, head, now, lock=False)
            if claimed is None:
                return None
            step = await self._step(session, claimed, head)
        if step is None:
            return await self.database.run(lambda s: self._set_aside(s, claimed, now))
        target, chosen = step
        sent = await self._send(target, chosen.batch)
        return await self.database.run(
            lambda s: self._record(s, claimed, target, chosen, sent, now)
        )

    async def _step(
        self, session: AsyncSession, claimed: Claimed, head: int
    ) -> tuple[Target, Plan[LoggedEvent]] | None:
        target = await self.kind.load(session, claimed.id)
        if target is None:
            return None
        scanned = await records.events_after(
            session, claimed, head, self.kind.event_types(target), self.kind.scan_limit
        )
        chosen = plan(
            scanned,
            lambda event: self.kind.select(target, event),
            head=head,
            scan_limit=self.kind.scan_limit,
            batch_size=self.kind.batch_size,
        )
        return target, chosen

    async def _send(self, target: Target, batch: list[LoggedEvent]) -> _Sent | None:
        if not batch:
            return None
        loop = asyncio.get_running_loop()
        started = loop.time()
        metrics.LAG_SECONDS.labels(self.kind.name).set(
            max(0.0, utcnow().timestamp() - batch[0].created_at.timestamp())
        )
        try:
            async with asyncio.timeout(self.settings.outbound_timeout_seconds):
                accepted: Accepted = await self.kind.send(target, batch)
        except SendFailed as refused:
            return _Sent(False, refused.http_status, _ms_since(loop, started), refused.error)
        except TimeoutError:
            error = f"no answer within {self.settings.outbound_timeout_seconds:g} s"
            return _Sent(False, None, _ms_since(loop, started), error)
        except Exception as error:
            logger.info("%s delivery failed", self.kind.name, exc_info=True)
            text = f"{type(error).__name__}: {error}"
            return _Sent(False, None, _ms_since(loop, started), text)
        return _Sent(True, accepted.http_status, _ms_since(loop, started), None, accepted.through)

    async def _record(
        self,
        session: AsyncSession,
        claimed: Claimed,
        target: Target,
        chosen: Plan[LoggedEvent],
        sent: _Sent | None,
        now: datetime,
    ) -> Attempt:
        """Write the outcome: the cursor, the failure count, when to try again, the delivery.
        Dropped if the destination changed since it was claimed (SQLite, which holds no claim:
        a replay, a resume or its deletion came first); the next round sees it anew."""
        name = self.kind.name
        dropped = Attempt(claimed.id, "dropped", claimed.delivered_through)
        if sent is None:
            changes: dict[str, Any] = {"delivered_through": chosen.through}
            if not await records.update_if_unchanged(session, claimed, changes):
                return dropped
            return Attempt(claimed.id, "passed", chosen.through)
        ids = tuple(event.id for event in chosen.batch)
        attempt = claimed.consecutive_failures + 1
        if sent.ok:
            through = chosen.through if sent.through is None else min(sent.through, chosen.through)
            ids = tuple(id for id in ids if id <= through)
            changes = {
                "delivered_through": through,
                "consecutive_failures": 0,
                "next_attempt_at": now,
                "last_error": None,
            }
            if not await records.update_if_unchanged(session, claimed, changes):
                return dropped
            await _write(session, claimed.id, DeliveryStatus.SENT, attempt, ids, sent)
            metrics.EVENTS_SENT.labels(name).inc(len(ids))
            return Attempt(claimed.id, "sent", through, ids, sent.http_status)
        error = (sent.error or "failed")[: records.ERROR_LIMIT]
        paused = should_pause(attempt, self.settings.outbound_pause_after_failures)
        wait = retry_delay(
            attempt,
            first=timedelta(seconds=self.settings.outbound_first_retry_seconds),
            longest=timedelta(seconds=self.settings.outbound_longest_wait_seconds),
            jitter=self.jitter(),
        )
        changes = {
            "consecutive_failures": attempt,
            "last_error": error,
            "next_attempt_at": now + wait,
        }
        if paused:
            changes |= {"status": DestinationStatus.PAUSED, "paused_at": now}
        if not await records.update_if_unchanged(session, claimed, changes):
            return dropped
        await _write(session, claimed.id, DeliveryStatus.FAILED, attempt, ids, sent)
        metrics.ATTEMPTS_FAILED.labels(name).inc()
        if paused:
            metrics.DESTINATIONS_PAUSED.labels(name).inc()
            logger.warning("%s destination %d paused after %d failures", name, claimed.id, attempt)
            if self.kind.on_paused is not None:
                report = Paused(claimed.id, claimed.institution_id, attempt, error)
                await self.kind.on_paused(session, target, report)
        return Attempt(
            claimed.id,
            "failed",
            claimed.delivered_through,
            ids,
            sent.http_status,
            error,
            paused=paused,
        )

    async def _set_aside(self, session: AsyncSession, claimed: Claimed, now: datetime) -> Attempt:
        """The integration has nothing to send with (its row is going away): look again later."""
        later = now + timedelta(seconds=self.settings.outbound_longest_wait_seconds)
        await records.update_if_unchanged(session, claimed, {"next_attempt_at": later})
        return Attempt(claimed.id, "set aside", claimed.delivered_through)

    async def _measure_lag(self, head: int) -> None:
        async with self.database.reader() as reader:
            furthest_behind = await records.furthest_behind(reader, self.kind.name)
        self._any_active = furthest_behind is not None
        behind = max(0, head - furthest_behind) if furthest_behind is not None else 0
        metrics.LAG_EVENTS.labels(self.kind.name).set(behind)
        if behind == 0:
            metrics.LAG_SECONDS.labels(self.kind.name).set(0)


def outbound_rounds(database: Database, settings: Settings, kind: OutboundKind[Any]) -> Rounds:
    """The rounds of the process's worker for `kind`, woken by every commit that appends events
    (app lifespan: start them, then stop them)."""
    worker = OutboundWorker(database, settings, kind)
    database.on_events_committed(worker.wake)
    return worker.rounds


def _ms_since(loop: asyncio.AbstractEventLoop, started: float) -> int:
    return round((loop.time() - started) * 1000)


async def _write(
    session: AsyncSession,
    destination_id: int,
    status: DeliveryStatus,
    attempt: int,
    ids: tuple[int, ...],
    sent: _Sent,
) -> None:
    await records.write_delivery(
        session,
        destination_id,
        status=status,
        http_status=sent.http_status,
        attempt=attempt,
        response_ms=sent.response_ms,
        error=sent.error,
        event_ids=ids,
    )
