"""The mapping from logged events to statements, without a database: every statement is valid
for Ralph's xAPI models, videos follow the Video Profile, and the ids are stable."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ralph.models.xapi.video.statements import (
    VideoCompleted,
    VideoInitialized,
    VideoPaused,
    VideoPlayed,
)

from lectern.progress.rules import back_to_back_joined, merge_intervals
from lectern.xapi.rules import endpoint_problem
from lectern.xapi.statements import (
    LENGTH,
    PLAYED_SEGMENTS,
    PROGRESS,
    SESSION_ID,
    TIME,
    played_segments,
    statements_for,
)
from tests.xapi.statements_check import validated, verb

WHEN = datetime(2026, 12, 6, 20, 0, 0, 123456, tzinfo=UTC)
ORIGIN = "https://lms.example.edu"
WATCHED: dict[str, Any] = {
    "enrollment_id": 4,
    "course_id": 2,
    "course_title": "Statistics",
    "lesson_id": 9,
    "lesson_title": "Means",
    "duration_s": 100.0,
    "played": [[0.0, 40.0], [30.0, 92.5]],
    "watched_before": [],
    "completed_now": True,
}
EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("lesson.watched", WATCHED),
    ("lesson.watched", {**WATCHED, "played": [[95, 100]], "watched_before": [[0, 92.5]]}),
    (
        "quiz.attempted",
        {
            "attempt_id": 1,
            "enrollment_id": 4,
            "course_id": 2,
            "course_title": "Statistics",
            "lesson_id": 10,
            "lesson_title": "Check",
            "score": 0.5,
            "pass_mark": 0.75,
            "passed": False,
        },
    ),
    (
        "qbank.test_finished",
        {
            "test_id": 3,
            "course_id": 2,
            "score": 0.8,
            "questions": 5,
            "correct": 4,
            "pass_mark": 0.7,
            "passed": True,
        },
    ),
    # Logged before the pass mark was recorded with the test.
    (
        "qbank.test_finished",
        {"test_id": 4, "course_id": 2, "score": 0.2, "questions": 5, "correct": 1},
    ),
    (
        "enrollment.completed",
        {
            "id": 4,
            "user_id": 7,
            "course_id": 2,
            "course_title": "Statistics",
            "status": "completed",
            "progress": 100.0,
            "completed_at": WHEN.isoformat(),
        },
    ),
    (
        "certificate.issued",
        {
            "code": "k3y",
            "user_id": 7,
            "course_id": 2,
            "learner_name": "Grace Hopper",
            "course_title": "Statistics",
            "issued_at": WHEN.isoformat(),
        },
    ),
]


def _statements(
    event_type: str, payload: dict[str, Any], namespace: UUID | None = None, event_id: int = 41
) -> list[dict[str, Any]]:
    return statements_for(
        namespace=namespace or UUID(int=1),
        origin=ORIGIN,
        event_id=event_id,
        event_type=event_type,
        user_id=7,
        payload=payload,
        created_at=WHEN,
    )


@pytest.mark.parametrize(("event_type", "payload"), EVENTS)
def test_every_statement_is_valid_for_ralphs_xapi_models(
    event_type: str, payload: dict[str, Any]
) -> None:
    made = _statements(event_type, payload)
    assert made
    for statement in made:
        validated(statement)
        assert statement["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": ORIGIN, "name": "7"},
        }
        assert statement["object"]["id"].startswith(ORIGIN + "/")
        assert statement["timestamp"] == WHEN.isoformat()


def test_a_first_watch_is_initialized_played_paused_per_segment_and_completed() -> None:
    made = _statements("lesson.watched", WATCHED)
    models = [type(validated(statement)) for statement in made]
    assert models == [
        VideoInitialized,
        VideoPlayed,
        VideoPaused,
        VideoPlayed,
        VideoPaused,
        VideoCompleted,
    ]
    _, first_play, first_pause, second_play, second_pause, completed = made
    assert first_play["result"]["extensions"][TIME] == 0.0
    assert first_pause["result"]["extensions"] == {
        TIME: 40.0,
        PLAYED_SEGMENTS: "0[.]40",
        PROGRESS: 0.4,
    }
    assert second_play["result"]["extensions"][TIME] == 30.0
    assert second_pause["result"]["extensions"][PLAYED_SEGMENTS] == "0[.]92.5"
    assert second_pause["result"]["extensions"][PROGRESS] == 0.925
    assert completed["result"]["completion"] is True
    assert completed["result"]["extensions"][PROGRESS] == 0.925
    assert completed["context"]["extensions"][LENGTH] == 100.0
    sessions = {statement["context"]["extensions"][SESSION_ID] for statement in made}
    assert len(sessions) == 1
    assert {statement["object"]["id"] for statement in made} == {
        f"{ORIGIN}/learn/courses/2/lessons/9"
    }
    assert {statement["context"]["registration"] for statement in made} == {
        made[0]["context"]["registration"]
    }


def test_a_later_watch_is_not_initialized_again_and_counts_what_was_watched_before() -> None:
    later = {
        **WATCHED,
        "played": [[95, 100]],
        "watched_before": [[0, 92.5]],
        "completed_now": False,
    }
    made = _statements("lesson.watched", later)
    assert [verb(statement) for statement in made] == ["played", "paused"]
    assert made[1]["result"]["extensions"][PLAYED_SEGMENTS] == "0[.]92.5[,]95[.]100"
    assert made[1]["result"]["extensions"][PROGRESS] == 0.975


def test_quizzes_and_qbank_tests_are_answered_then_passed_or_failed_with_a_scaled_score() -> None:
    by_type = {event_type: payload for event_type, payload in EVENTS}
    quiz = _statements("quiz.attempted", by_type["quiz.attempted"])
    assert [verb(s) for s in quiz] == ["answered", "failed"]
    assert all(
        s["result"]["score"]["scaled"] == 0.5 and s["result"]["success"] is False for s in quiz
    )
    test = _statements("qbank.test_finished", EVENTS[3][1])
    assert [verb(s) for s in test] == ["answered", "passed"]
    assert test[1]["result"]["score"] == {"raw": 4, "min": 0, "max": 5, "scaled": 0.8}
    unmarked = _statements("qbank.test_finished", EVENTS[4][1])
    assert [verb(s) for s in unmarked] == ["answered"]
    assert "success" not in unmarked[0]["result"]


def test_courses_are_completed_and_certificates_earned() -> None:
    by_type = {event_type: payload for event_type, payload in EVENTS}
    [completed] = _statements("enrollment.completed", by_type["enrollment.completed"])
    assert verb(completed) == "completed"
    assert completed["object"]["id"] == f"{ORIGIN}/learn/courses/2"
    assert completed["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/course"
    [earned] = _statements("certificate.issued", by_type["certificate.issued"])
    assert verb(earned) == "earned"
    assert earned["object"]["id"] == f"{ORIGIN}/verify/k3y"


def test_statement_ids_are_the_same_every_time_distinct_per_destination_and_event() -> None:
    namespace = uuid4()
    once = [s["id"] for s in _statements("lesson.watched", WATCHED, namespace)]
    again = [s["id"] for s in _statements("lesson.watched", WATCHED, namespace)]
    elsewhere = [s["id"] for s in _statements("lesson.watched", WATCHED, uuid4())]
    next_event = [s["id"] for s in _statements("lesson.watched", WATCHED, namespace, 42)]
    assert once == again
    assert len(set(once)) == len(once)
    assert not set(once) & set(elsewhere)
    assert not set(once) & set(next_event)
    assert all(UUID(statement_id).version == 5 for statement_id in once)


def test_events_about_nobody_or_of_other_types_make_no_statements() -> None:
    assert _statements("request.approved", {"id": 1}) == []
    nobody = statements_for(
        namespace=uuid4(),
        origin=ORIGIN,
        event_id=1,
        event_type="enrollment.completed",
        user_id=None,
        payload=EVENTS[5][1],
        created_at=WHEN,
    )
    assert nobody == []


def test_played_segments_are_written_as_the_video_profile_says() -> None:
    assert played_segments([(0, 12.5), (20, 30)]) == "0[.]12.5[,]20[.]30"
    assert played_segments([(1.23456, 2)]) == "1.235[.]2"
    assert played_segments([]) == ""


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://lrs.example.edu/xAPI", True),
        ("https://lrs.example.edu:8443/data/xAPI/", True),
        ("http://127.0.0.1:8100/xAPI", True),
        ("http://lrs.example.edu/xAPI", False),
        ("ftp://lrs.example.edu/xAPI", False),
        ("https://user:pass@lrs.example.edu/xAPI", False),
        ("https://lrs.example.edu/xAPI?key=1", False),
        ("https://lrs.example.edu/xAPI#top", False),
        ("https:///xAPI", False),
        ("https://lrs.example.edu:99999/xAPI", False),
        ("lrs.example.edu/xAPI", False),
        ("https://lrs.exa mple.edu/xAPI", False),
        ("https://lrs.example.edu\t/xAPI", False),
        ("https://[::1/xAPI", False),
    ],
)
def test_endpoints_are_https_or_this_machine_when_allowed(endpoint: str, allowed: bool) -> None:
    assert (endpoint_problem(endpoint, allow_loopback_http=True) is None) == allowed


def test_plain_http_to_this_machine_needs_the_setting() -> None:
    assert endpoint_problem("http://127.0.0.1:8100/xAPI", allow_loopback_http=False)


_SECONDS = st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False)


@st.composite
def _watches(draw: st.DrawFn) -> dict[str, Any]:
    duration = draw(st.floats(min_value=1, max_value=600, allow_nan=False))
    segment = st.tuples(_SECONDS, _SECONDS).map(sorted).filter(lambda s: s[0] < s[1] <= duration)
    played = draw(st.lists(segment, min_size=1, max_size=6))
    before = [list(s) for s in merge_intervals(draw(st.lists(segment, max_size=4)))]
    return {**WATCHED, "duration_s": duration, "played": played, "watched_before": before}


@settings(max_examples=60, deadline=None)
@given(watch=_watches(), completed_now=st.booleans())
def test_any_watch_makes_valid_video_profile_statements_whose_progress_only_grows(
    watch: dict[str, Any], completed_now: bool
) -> None:
    made = _statements("lesson.watched", {**watch, "completed_now": completed_now})
    models = [type(validated(statement)) for statement in made]
    first = [VideoInitialized] if not watch["watched_before"] else []
    last = [VideoCompleted] if completed_now else []
    assert models == first + [VideoPlayed, VideoPaused] * len(watch["played"]) + last
    paused = [s["result"]["extensions"] for s in made if verb(s) == "paused"]
    progress = [extensions[PROGRESS] for extensions in paused]
    assert progress == sorted(progress)
    assert all(0 <= value <= 1 for value in progress)
    segments = merge_intervals([*watch["watched_before"], *watch["played"]])
    assert paused[-1][PLAYED_SEGMENTS] == played_segments(segments)


def test_segments_played_back_to_back_are_one_play_and_others_stay_apart_in_order() -> None:
    assert back_to_back_joined([(0, 5), (5, 12.5), (12.5, 20), (30, 40), (10, 15)]) == [
        (0, 20),
        (30, 40),
        (10, 15),
    ]
    assert back_to_back_joined([]) == []
