"""xAPI statements for logged events: a pure mapping, from the event's own payload only.

Nothing is read from the database when a statement is made, so a statement says what was true
when the event happened, and making it again (a resent batch, a replay) gives the same JSON.
Each statement's id is a UUID derived from the destination's namespace, the event id and the
statement's place among that event's statements: an LRS recognises a resent statement by it
and stores it once.

| event | statements |
|---|---|
| lesson.watched | `initialized` (first watch), `played`, `paused` per segment, `completed` |
| quiz.attempted | `answered`, then `passed` or `failed`, with the scaled score |
| qbank.test_finished | `answered`, then `passed` or `failed` (the course's pass mark) |
| enrollment.completed | `completed` of the course |
| certificate.issued | `earned` of the certificate |

The actor is the learner as an account of Lectern (`homePage` the public URL, `name` the user
id): stable across e-mail changes, and no address leaves Lectern. Object ids are under the
public URL.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from lectern.events.types import (
    CATALOGUE,
    CertificateIssued,
    DomainEvent,
    EnrollmentCompleted,
    LessonWatched,
    QbankTestFinished,
    QuizAttempted,
)
from lectern.progress.rules import VIDEO_COMPLETE_SHARE, covered_seconds, merge_intervals

XAPI_VERSION = "1.0.3"

VIDEO_PROFILE = "https://w3id.org/xapi/video"
VIDEO_TYPE = "https://w3id.org/xapi/video/activity-type/video"
PROFILE_TYPE = "http://adlnet.gov/expapi/activities/profile"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
BADGE_TYPE = "http://activitystrea.ms/schema/1.0/badge"

INITIALIZED = "http://adlnet.gov/expapi/verbs/initialized"
PLAYED = "https://w3id.org/xapi/video/verbs/played"
PAUSED = "https://w3id.org/xapi/video/verbs/paused"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
EARNED = "http://id.tincanapi.com/verb/earned"

_EXT = "https://w3id.org/xapi/video/extensions/"
SESSION_ID = _EXT + "session-id"
LENGTH = _EXT + "length"
COMPLETION_THRESHOLD = _EXT + "completion-threshold"
TIME = _EXT + "time"
PLAYED_SEGMENTS = _EXT + "played-segments"
PROGRESS = _EXT + "progress"

# The event types that become statements; the others are passed over.
STATEMENT_EVENTS = frozenset(
    cls.type
    for cls in (
        LessonWatched,
        QuizAttempted,
        QbankTestFinished,
        EnrollmentCompleted,
        CertificateIssued,
    )
)

Statement = dict[str, Any]


def statement_id(namespace: UUID, event_id: int, index: int) -> str:
    """The id of the `index`-th statement of event `event_id` for the destination `namespace`."""
    return str(uuid5(namespace, f"{event_id}/{index}"))


def played_segments(intervals: Sequence[Sequence[float]]) -> str:
    """The Video Profile's form: `0[.]12.5[,]20[.]30`."""
    return "[,]".join(f"{_number(start)}[.]{_number(end)}" for start, end in intervals)


def _number(value: float) -> float | int:
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def _progress(intervals: Sequence[Sequence[float]], duration_s: float) -> float:
    if duration_s <= 0:
        return 0.0
    return min(1.0, round(covered_seconds(intervals) / duration_s, 3))


class _Maker:
    """The statements of one event, numbered in the order they are made."""

    def __init__(
        self, namespace: UUID, event_id: int, user_id: int, origin: str, at: datetime
    ) -> None:
        self.namespace = namespace
        self.event_id = event_id
        self.origin = origin
        self.timestamp = at.isoformat()
        self.actor = {"objectType": "Agent", "account": {"homePage": origin, "name": str(user_id)}}
        self.made: list[Statement] = []

    def uuid(self, label: str) -> str:
        return str(uuid5(self.namespace, f"{self.event_id}/{label}"))

    def registration(self, enrollment_id: int) -> str:
        return str(uuid5(self.namespace, f"enrollment/{enrollment_id}"))

    def course(self, course_id: int, title: str) -> dict[str, Any]:
        return _activity(f"{self.origin}/learn/courses/{course_id}", COURSE_TYPE, title)

    def add(
        self,
        verb: str,
        activity: dict[str, Any],
        *,
        result: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        statement: Statement = {
            "id": statement_id(self.namespace, self.event_id, len(self.made)),
            "actor": self.actor,
            "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
            "object": activity,
            "timestamp": self.timestamp,
            "version": XAPI_VERSION,
        }
        if result:
            statement["result"] = result
        statement["context"] = {"platform": "Lectern", **(context or {})}
        self.made.append(statement)


def _activity(activity_id: str, kind: str, name: str) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": kind}
    if name:
        definition["name"] = {"en-US": name}
    return {"objectType": "Activity", "id": activity_id, "definition": definition}


def _video(maker: _Maker, event: LessonWatched) -> None:
    video = _activity(
        f"{maker.origin}/learn/courses/{event.course_id}/lessons/{event.lesson_id}",
        VIDEO_TYPE,
        event.lesson_title,
    )
    session = maker.uuid("session")
    context = {
        "registration": maker.registration(event.enrollment_id),
        "contextActivities": {
            "category": [{"id": VIDEO_PROFILE, "definition": {"type": PROFILE_TYPE}}],
            "parent": [maker.course(event.course_id, event.course_title)],
        },
    }
    browsing = {
        SESSION_ID: session,
        LENGTH: event.duration_s,
        COMPLETION_THRESHOLD: VIDEO_COMPLETE_SHARE,
    }
    if not event.watched_before:
        maker.add(INITIALIZED, video, context={**context, "extensions": browsing})
    watched: list[Sequence[float]] = list(event.watched_before)
    for start, end in event.played:
        maker.add(
            PLAYED,
            video,
            result={"extensions": {TIME: start}},
            context={**context, "extensions": {SESSION_ID: session}},
        )
        watched = list(merge_intervals([*watched, (start, end)]))
        maker.add(
            PAUSED,
            video,
            result={
                "extensions": {
                    TIME: end,
                    PLAYED_SEGMENTS: played_segments(watched),
                    PROGRESS: _progress(watched, event.duration_s),
                }
            },
            context={**context, "extensions": browsing},
        )
    if event.completed_now:
        maker.add(
            COMPLETED,
            video,
            result={
                "completion": True,
                "extensions": {
                    TIME: event.played[-1][1] if event.played else event.duration_s,
                    PLAYED_SEGMENTS: played_segments(watched),
                    PROGRESS: _progress(watched, event.duration_s),
                },
            },
            context={**context, "extensions": browsing},
        )


def _quiz(maker: _Maker, event: QuizAttempted) -> None:
    quiz = _activity(
        f"{maker.origin}/learn/courses/{event.course_id}/lessons/{event.lesson_id}",
        ASSESSMENT_TYPE,
        event.lesson_title,
    )
    context = {
        "registration": maker.registration(event.enrollment_id),
        "contextActivities": {"parent": [maker.course(event.course_id, event.course_title)]},
    }
    result = {"score": {"scaled": round(event.score, 4)}, "success": event.passed}
    maker.add(ANSWERED, quiz, result={**result, "completion": True}, context=context)
    maker.add(PASSED if event.passed else FAILED, quiz, result=result, context=context)


def _qbank(maker: _Maker, event: QbankTestFinished) -> None:
    test = _activity(
        f"{maker.origin}/learn/courses/{event.course_id}/qbank/tests/{event.test_id}",
        ASSESSMENT_TYPE,
        "Q-bank test",
    )
    context = {"contextActivities": {"parent": [maker.course(event.course_id, "")]}}
    score: dict[str, Any] = {"raw": event.correct, "min": 0, "max": event.questions}
    if event.score is not None:
        score["scaled"] = round(event.score, 4)
    result: dict[str, Any] = {"score": score, "completion": True}
    if event.passed is not None:
        result["success"] = event.passed
    maker.add(ANSWERED, test, result=result, context=context)
    if event.passed is not None:
        verb = PASSED if event.passed else FAILED
        maker.add(verb, test, result={"score": score, "success": event.passed}, context=context)


def _course_completed(maker: _Maker, event: EnrollmentCompleted) -> None:
    maker.add(
        COMPLETED,
        maker.course(event.course_id, event.course_title),
        result={"completion": True},
        context={"registration": maker.registration(event.id)},
    )


def _certificate(maker: _Maker, event: CertificateIssued) -> None:
    certificate = _activity(
        f"{maker.origin}/verify/{event.code}", BADGE_TYPE, f"Certificate: {event.course_title}"
    )
    context = {"contextActivities": {"parent": [maker.course(event.course_id, event.course_title)]}}
    maker.add(EARNED, certificate, context=context)


_MAPPINGS: dict[str, Callable[[_Maker, Any], None]] = {
    LessonWatched.type: _video,
    QuizAttempted.type: _quiz,
    QbankTestFinished.type: _qbank,
    EnrollmentCompleted.type: _course_completed,
    CertificateIssued.type: _certificate,
}


def statements_for(
    *,
    namespace: UUID,
    origin: str,
    event_id: int,
    event_type: str,
    user_id: int | None,
    payload: dict[str, Any],
    created_at: datetime,
) -> list[Statement]:
    """The statements of one logged event, in order; none for an event about no learner or of
    a type that makes none."""
    mapping = _MAPPINGS.get(event_type)
    if mapping is None or user_id is None:
        return []
    event: DomainEvent = CATALOGUE[event_type].model_validate(payload)
    maker = _Maker(namespace, event_id, user_id, origin.rstrip("/"), created_at)
    mapping(maker, event)
    return maker.made
