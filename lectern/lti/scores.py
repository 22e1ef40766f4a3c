"""Scores for the platforms' gradebooks, written beside the progress events that cause them.

When a launched learner's progress or completion changes, each of their grade links (the AGS
line items their launches named) gets a pending score in the same transaction. The score worker
sends them after commit; one that a newer score of its link follows is superseded, not sent, so
a platform is never sent a stale score after a fresh one.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from lectern.events.subscribers import subscribe
from lectern.events.types import EnrollmentCompleted, ProgressUpdated
from lectern.models import LtiGradeLink, LtiScore
from lectern.models.base import utcnow
from lectern.models.enums import EnrollmentStatus
from lectern.models.lti import ScoreStatus

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


async def scores_for_events(session: AsyncSession, events: list[dict[str, Any]]) -> None:
    """The event subscriber: a pending score per grade link of each learner and course whose
    progress changed."""
    await session.run_sync(write_scores, events)


def write_scores(session: Session, events: list[dict[str, Any]]) -> None:
    latest = latest_scores(events)
    if not latest:
        return
    user_ids = {user_id for user_id, _ in latest}
    links = session.execute(
        select(LtiGradeLink.id, LtiGradeLink.user_id, LtiGradeLink.course_id).where(
            LtiGradeLink.user_id.in_(user_ids)
        )
    ).all()
    now = utcnow()
    for link_id, user_id, course_id in links:
        fields = latest.get((user_id, course_id))
        if fields is None:
            continue
        session.add(
            LtiScore(
                grade_link_id=link_id,
                status=ScoreStatus.PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                **fields,
            )
        )
    session.flush()


def subscribe_scores() -> None:
    """Have progress and completion events write their scores (idempotent)."""
    subscribe((ProgressUpdated, EnrollmentCompleted), scores_for_events)
