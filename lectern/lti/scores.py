"""Scores for the platforms' gradebooks, written beside the progress events that cause them.

When a launched learner's progress or completion changes, each of their grade links (the AGS
line items their launches named) gets a pending score in the same transaction. The score worker
sends them after commit; one that a newer score of its link follows is superseded, not sent, so
a platform is never sent a stale score after a fresh one.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import Pool

from lectern.events.subscribers import subscribe
from lectern.events.types import EnrollmentCompleted, ProgressUpdated
from lectern.models import LtiGradeLink, LtiScore
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentStatus
from lectern.models.lti import ScoreStatus
from lectern.platform.db import Database
from lectern.platform.prepared import Prepared
from lectern.platform.transaction import transaction_of

SCORE_MAXIMUM = 100.0


def score_fields(progress: float, completed: bool) -> dict[str, Any]:
    """An AGS score of course progress: out of 100, final once the course is completed."""
    return {
        "score_given": max(0.0, min(SCORE_MAXIMUM, round(float(progress), 2))),
        "score_maximum": SCORE_MAXIMUM,
        "activity_progress": "Completed" if completed else "InProgress",
        "grading_progress": "FullyGraded" if completed else "Pending",
    }


def latest_scores(events: list[dict[str, Any]]) -> dict[tuple[int, int], dict[str, Any]]:
    """The score each (learner, course) of `events` now warrants: its last figure."""
    latest: dict[tuple[int, int], dict[str, Any]] = {}
    for event in events:
        payload = event["payload"]
        if event["user_id"] is None:
            continue
        completed = (
            event["type"] == EnrollmentCompleted.type
            or payload.get("status") == EnrollmentStatus.COMPLETED
        )
        if not completed and payload.get("previous") == payload["progress"]:
            continue  # watching that moved no figure: nothing new for the gradebook
        pair = (event["user_id"], payload["course_id"])
        earlier = latest.get(pair)
        latest[pair] = score_fields(
            payload["progress"],
            completed or bool(earlier and earlier["activity_progress"] == "Completed"),
        )
    return latest


_LINKS = LtiGradeLink.metadata.tables[LtiGradeLink.__tablename__]
_SCORES = LtiScore.metadata.tables[LtiScore.__tablename__]
_LINKS_OF_PAIR = Prepared(
    select(_LINKS.c.id, _LINKS.c.user_id, _LINKS.c.course_id).where(
        _LINKS.c.user_id == bindparam("user_id"), _LINKS.c.course_id == bindparam("course_id")
    )
)
_QUEUE = insert(_SCORES)
# The listeners of each database, by its connection pool: a process may hold several.
_listeners: list[tuple[Pool, Callable[[], None]]] = []


def on_scores_queued(database: Database, listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener()` after a transaction of `database` that queued scores commits (the
    score worker); what is returned stops it."""
    entry = (database.engine.sync_engine.pool, listener)
    _listeners.append(entry)
    return lambda: _listeners.remove(entry)


def _tell_listeners(pool: Pool) -> None:
    for listening, listener in _listeners:
        if listening is pool:
            listener()


async def scores_for_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """The event subscriber: a pending score per grade link of each learner and course whose
    progress changed."""
    latest = latest_scores(events)
    if not latest:
        return
    links = await _links_of(session, list(latest))
    now = utcnow()
    scores = [
        {
            "grade_link_id": link_id,
            "status": ScoreStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            **latest[(user_id, course_id)],
        }
        for link_id, user_id, course_id in links
        if (user_id, course_id) in latest
    ]
    if scores:
        await session.execute(_QUEUE, scores)
        pool = (await session.connection()).sync_engine.pool
        transaction_of(session).after_commit(lambda: _tell_listeners(pool))


async def _links_of(session: AsyncSession, pairs: list[tuple[int, int]]) -> list[Any]:
    """The grade links of (learner, course) pairs; one pair, the common case, by a statement
    built once."""
    if len(pairs) == 1:
        user_id, course_id = pairs[0]
        return await _LINKS_OF_PAIR.all(session, {"user_id": user_id, "course_id": course_id})
    user_ids = {user_id for user_id, _ in pairs}
    query = select(_LINKS.c.id, _LINKS.c.user_id, _LINKS.c.course_id)
    return list(await session.execute(query.where(_LINKS.c.user_id.in_(user_ids))))


def subscribe_scores() -> None:
    """Have progress and completion events write their scores (idempotent)."""
    subscribe((ProgressUpdated, EnrollmentCompleted), scores_for_events)
