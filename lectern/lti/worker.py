"""The score worker: sends pending scores to the platforms' AGS line items after commit, with an
access token got by a JWT bearer assertion signed with Lectern's key, retried with backoff.

As the mail worker: on PostgreSQL a score is claimed with `FOR UPDATE SKIP LOCKED` and its
outcome recorded in the claiming transaction; on SQLite a worker takes a due score by moving its
next attempt past the longest send (`LEASE`) in a write of its own, which only one of several
workers on the file can do, sends it and records the outcome. A crash between the platform's
answer and the commit sends the score again, which AGS takes as the same score (same
timestamp).
"""

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.lti.claims import AGS_SCORE_SCOPE, scores_url
from lectern.lti.keys import platform_client, sign, signing_key
from lectern.models import LtiGradeLink, LtiPlatform, LtiScore
from lectern.models.base import utcnow
from lectern.models.lti import ScoreStatus
from lectern.platform.db import Database
from lectern.platform.lease import while_leased
from lectern.platform.outbound_http import failure_message
from lectern.platform.rounds import Rounds

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
POLL_SECONDS = 60.0
TIMEOUT_S = 15.0
LEASE = timedelta(minutes=5)  # a token request and a score post take at most twice TIMEOUT_S
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"

SCORES_SENT = Counter("lectern_lti_scores_sent", "Scores an LTI platform accepted.")
SCORES_FAILED = Counter(
    "lectern_lti_scores_failed", "Attempts to send an LTI score that failed (retried or not)."
)
SCORES_PENDING = Gauge(
    "lectern_lti_scores_pending",
    "Scores waiting to be sent, as this process last counted.",
    multiprocess_mode="max",
)
SCORES_LAG = Gauge(
    "lectern_lti_scores_lag_seconds",
    "Age of the oldest score waiting to be sent, as this process last counted.",
    multiprocess_mode="max",
)


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


@dataclass(frozen=True)
class Outcome:
    score_id: int
    status: ScoreStatus
    attempts: int
    next_attempt_at: datetime
    error: str | None = None


class SendFailed(Exception):
    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.permanent = permanent


Post = Callable[..., Awaitable[httpx.Response]]


class ScoreWorker:
    """One per process; several on one database send each score once."""

    def __init__(self, database: Database, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.database = database
        self._tokens: dict[int, tuple[str, float]] = {}  # platform id: (token, expires, monotonic)
        self.rounds = Rounds(self.deliver_due, name="the LTI score worker", pause=poll_seconds)

    async def deliver_next(self, now: datetime | None = None) -> Outcome | None:
        now = now or utcnow()
        if self.database.is_postgres:
            async with self.database.sessionmaker() as session, session.begin():
                due = await _due(session, now, claim=True)
                if due is None:
                    return None
                outcome = await self._attempt(session, *due, now)
                await _record(session, outcome)
            return outcome
        return await self._deliver_leased(now)

    async def _deliver_leased(self, now: datetime) -> Outcome | None:
        """SQLite: send the oldest due score that no other worker holds."""
        while True:
            async with self.database.session() as session:
                due = await _due(session, now, claim=False)
                if due is None:
                    return None
                outcome = await while_leased(
                    self.database,
                    due[0],
                    pending=ScoreStatus.PENDING,
                    now=now,
                    lease=LEASE,
                    send=partial(self._attempt, session, *due, now),
                )
            if outcome is not None:
                await self.database.run(partial(_record, outcome=outcome, unclaimed=True))
                return outcome

    async def _attempt(
        self,
        session: AsyncSession,
        score: LtiScore,
        link: LtiGradeLink,
        platform: LtiPlatform,
        now: datetime,
    ) -> Outcome:
        if await _superseded(session, score):
            return Outcome(score.id, ScoreStatus.SUPERSEDED, score.attempts + 1, now)
        try:
            await self._send(score, link, platform)
        except SendFailed as failed:
            SCORES_FAILED.inc()
            attempts = score.attempts + 1
            gave_up = failed.permanent or attempts >= MAX_ATTEMPTS
            log.warning("LTI score %d to platform %d failed: %s", score.id, platform.id, failed)
            return Outcome(
                score.id,
                ScoreStatus.FAILED if gave_up else ScoreStatus.PENDING,
                attempts,
                now + retry_delay(attempts),
                str(failed)[:1000],
            )
        SCORES_SENT.inc()
        return Outcome(score.id, ScoreStatus.SENT, score.attempts + 1, now)

    async def _send(self, score: LtiScore, link: LtiGradeLink, platform: LtiPlatform) -> None:
        if platform.auth_token_url is None:
            raise SendFailed("The platform has no auth token URL.", permanent=True)
        body = {
            "userId": link.subject,
            "scoreGiven": score.score_given,
            "scoreMaximum": score.score_maximum,
            "activityProgress": score.activity_progress,
            "gradingProgress": score.grading_progress,
            "timestamp": score.created_at.isoformat(timespec="milliseconds"),
        }
        try:
            async with platform_client(TIMEOUT_S) as http:
                token = await self._token(http, platform)
                response = await http.post(
                    scores_url(link.line_item_url),
                    json=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE},
                )
        except httpx.HTTPError as error:
            raise SendFailed(failure_message(error), permanent=False) from None
        if response.status_code == 401:
            self._tokens.pop(platform.id, None)
        if not response.is_success:
            raise SendFailed(
                f"The line item answered {response.status_code}: {response.text[:300]}",
                permanent=_permanent(response.status_code),
            )

    async def _token(self, http: httpx.AsyncClient, platform: LtiPlatform) -> str:
        """An AGS score access token from the platform, reused until shortly before it ends."""
        cached = self._tokens.get(platform.id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        assert platform.auth_token_url is not None
        now = int(time.time())
        assertion = sign(
            # Made, if none exists yet, in a transaction of its own that commits.
            await self.database.run(signing_key),
            {
                "iss": platform.client_id,
                "sub": platform.client_id,
                "aud": platform.auth_token_url,
                "iat": now,
                "exp": now + 300,
                "jti": f"lectern-{platform.id}-{now}-{id(self)}-{time.monotonic_ns()}",
            },
        )
        response = await http.post(
            platform.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": AGS_SCORE_SCOPE,
            },
        )
        if not response.is_success:
            raise SendFailed(
                f"The token endpoint answered {response.status_code}: {response.text[:300]}",
                permanent=False,
            )
        try:
            document: dict[str, Any] = response.json()
            token = str(document["access_token"])
            lifetime = float(document.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise SendFailed(
                "The token endpoint's answer has no access_token.", permanent=False
            ) from None
        self._tokens[platform.id] = (token, time.monotonic() + max(0.0, lifetime - 60))
        return token

    async def deliver_due(self, now: datetime | None = None) -> list[Outcome]:
        outcomes = []
        while (outcome := await self.deliver_next(now)) is not None:
            outcomes.append(outcome)
        await self._count_waiting()
        return outcomes

    async def _count_waiting(self) -> None:
        async with self.database.session() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(LtiScore.created_at)).where(
                        LtiScore.status == ScoreStatus.PENDING
                    )
                )
            ).one()
        SCORES_PENDING.set(count)
        lag = 0.0
        if oldest is not None:
            lag = (utcnow() - oldest.replace(tzinfo=utcnow().tzinfo)).total_seconds()
        SCORES_LAG.set(max(0.0, lag))


def _permanent(status: int) -> bool:
    """A 4xx other than an expired token, a timeout or a rate limit: sending again will not
    help."""
    return 400 <= status < 500 and status not in (401, 408, 409, 425, 429)


async def _due(
    session: AsyncSession, now: datetime, *, claim: bool
) -> tuple[LtiScore, LtiGradeLink, LtiPlatform] | None:
    query = (
        select(LtiScore, LtiGradeLink, LtiPlatform)
        .join(LtiGradeLink, LtiGradeLink.id == LtiScore.grade_link_id)
        .join(LtiPlatform, LtiPlatform.id == LtiGradeLink.platform_id)
        .where(LtiScore.status == ScoreStatus.PENDING, LtiScore.next_attempt_at <= now)
        .order_by(LtiScore.next_attempt_at, LtiScore.id)
        .limit(1)
    )
    if claim:
        query = query.with_for_update(of=LtiScore, skip_locked=True)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    score, link, platform = row
    return score, link, platform


async def _superseded(session: AsyncSession, score: LtiScore) -> bool:
    """Whether a newer score of the same link was written: it replaces this one."""
    newer = await session.scalar(
        select(LtiScore.id)
        .where(
            LtiScore.grade_link_id == score.grade_link_id,
            LtiScore.id > score.id,
            LtiScore.status.in_((ScoreStatus.PENDING, ScoreStatus.SENT)),
        )
        .limit(1)
    )
    return newer is not None


async def _record(session: AsyncSession, outcome: Outcome, *, unclaimed: bool = False) -> None:
    statement = update(LtiScore).where(LtiScore.id == outcome.score_id)
    if unclaimed:
        statement = statement.where(
            LtiScore.status == ScoreStatus.PENDING, LtiScore.attempts == outcome.attempts - 1
        )
    await session.execute(
        statement.values(
            status=outcome.status,
            attempts=outcome.attempts,
            next_attempt_at=outcome.next_attempt_at,
            last_error=outcome.error,
            sent_at=outcome.next_attempt_at if outcome.status == ScoreStatus.SENT else None,
        )
    )
