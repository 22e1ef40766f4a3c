"""Visibility, resume and fan-out rules, without a database or a server."""

import asyncio
import json
from datetime import UTC, datetime

import pytest

from lectern.events.rules import LoggedEvent, Viewer, can_see, resume_from, sse_message
from lectern.live.fanout import PING, Subscriber, Subscribers

LEARNER = Viewer(user_id=7, institution_id=1, is_staff=False)
OTHER_LEARNER = Viewer(user_id=8, institution_id=1, is_staff=False)
ADMIN = Viewer(user_id=2, institution_id=1, is_staff=True)
OTHER_ADMIN = Viewer(user_id=3, institution_id=2, is_staff=True)


def event(
    id: int = 1, *, user_id: int | None = 7, institution_id: int = 1, audience: str = "both"
) -> LoggedEvent:
    return LoggedEvent(
        id=id,
        type="enrollment.created",
        institution_id=institution_id,
        user_id=user_id,
        audience=audience,
        payload={"course_id": 3},
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("audience", "learner", "other_learner", "admin", "other_admin"),
    [
        ("learner", True, False, False, False),
        ("admins", False, False, True, False),
        ("both", True, False, True, False),
    ],
)
def test_a_learner_sees_their_own_events_and_staff_their_institutions(
    audience: str, learner: bool, other_learner: bool, admin: bool, other_admin: bool
) -> None:
    e = event(audience=audience)
    assert can_see(LEARNER, e) is learner
    assert can_see(OTHER_LEARNER, e) is other_learner
    assert can_see(ADMIN, e) is admin
    assert can_see(OTHER_ADMIN, e) is other_admin


def test_instructors_see_like_admins_and_students_like_learners() -> None:
    assert Viewer.of(5, 1, "instructor").is_staff
    assert Viewer.of(5, 1, "admin").is_staff
    assert not Viewer.of(5, 1, "student").is_staff


def test_the_last_event_id_header_wins_over_the_query_parameter() -> None:
    assert resume_from(12, 3) == 12
    assert resume_from(None, 3) == 3
    assert resume_from(None, None) is None


def test_a_message_carries_the_event_id_and_the_event_document() -> None:
    text = sse_message(event(42)).decode()
    assert text.endswith("\n\n")
    lines = text.strip("\n").split("\n")
    assert lines[0] == "id: 42"
    assert lines[1].startswith("data: ")
    assert len(lines) == 2  # the default event name: no `event:` line
    assert json.loads(lines[1].removeprefix("data: ")) == {
        "id": 42,
        "type": "enrollment.created",
        "institution_id": 1,
        "user_id": 7,
        "payload": {"course_id": 3},
        "created_at": "2026-01-02T03:04:05Z",
    }


def test_a_newline_in_a_payload_stays_inside_one_data_line() -> None:
    e = event()
    e.payload["note"] = "line one\nline two"
    assert sse_message(e).decode().count("\n") == 3


def test_a_message_is_utf8_json_whatever_the_payload_holds() -> None:
    e = event()
    e.payload.update(title="Écrire — 日本語", when=datetime(2026, 1, 2, tzinfo=UTC), n=None)
    data = sse_message(e).decode("utf-8").split("\n")[1].removeprefix("data: ")
    assert json.loads(data)["payload"] == {
        "course_id": 3,
        "title": "Écrire — 日本語",
        "when": "2026-01-02T00:00:00Z",
        "n": None,
    }


async def test_fan_out_reaches_only_the_matching_streams() -> None:
    subscribers = Subscribers()
    streams = {
        viewer: Subscriber(viewer, 0, 10) for viewer in (LEARNER, OTHER_LEARNER, ADMIN, OTHER_ADMIN)
    }
    for subscriber in streams.values():
        subscribers.add(subscriber)
    assert subscribers.deliver(event(1, audience="both"), sse_message) == 2
    assert subscribers.deliver(event(2, audience="learner"), sse_message) == 1
    assert subscribers.deliver(event(3, audience="admins"), sse_message) == 1
    assert subscribers.deliver(
        event(4, user_id=None, institution_id=2, audience="admins"), sse_message
    )
    queued = {viewer: s.queue.qsize() for viewer, s in streams.items()}
    assert queued == {LEARNER: 2, OTHER_LEARNER: 0, ADMIN: 2, OTHER_ADMIN: 1}
    assert streams[LEARNER].queue.get_nowait() == (1, sse_message(event(1, audience="both")))


def test_an_event_no_stream_may_see_is_not_encoded() -> None:
    subscribers = Subscribers()
    subscribers.add(Subscriber(OTHER_LEARNER, 0, 10))
    encoded: list[int] = []

    def encode(e: LoggedEvent) -> bytes:
        encoded.append(e.id)
        return b"m"

    assert subscribers.deliver(event(1, audience="learner"), encode) == 0
    assert subscribers.deliver(event(2, user_id=OTHER_LEARNER.user_id), encode) == 1
    assert encoded == [2]


async def test_a_full_subscriber_is_dropped_and_its_queue_emptied() -> None:
    subscribers = Subscribers()
    slow = Subscriber(LEARNER, 0, 3)
    subscribers.add(slow)
    for n in range(1, 4):
        subscribers.deliver(event(n), sse_message)
    assert slow.queue.qsize() == 3
    assert not slow.dropped
    assert subscribers.deliver(event(4), sse_message) == 0
    assert slow.dropped
    assert len(subscribers) == 0
    # What it missed is not kept: only the end-of-stream marker remains.
    assert slow.queue.qsize() == 1
    assert await asyncio.wait_for(slow.next_batch(), 1) == []
    assert subscribers.deliver(event(5), sse_message) == 0


def test_removing_the_last_stream_of_a_learner_forgets_the_learner() -> None:
    subscribers = Subscribers()
    subscriber = Subscriber(LEARNER, 0, 3)
    subscribers.add(subscriber)
    subscribers.discard(subscriber)
    subscribers.discard(subscriber)
    assert len(subscribers) == 0
    assert list(subscribers) == []


async def test_a_stream_takes_everything_queued_in_one_batch_and_ends_after_it() -> None:
    subscriber = Subscriber(LEARNER, 0, 10)
    messages = [(n, sse_message(event(n))) for n in (1, 2, 3)]
    for message in messages:
        subscriber.queue.put_nowait(message)
    subscriber.ping()
    assert await subscriber.next_batch() == [*messages, PING]

    subscriber.queue.put_nowait(messages[0])
    subscriber.queue.put_nowait(None)  # what end() leaves
    assert await subscriber.next_batch() == [messages[0]]
    assert await subscriber.next_batch() == []
    assert await subscriber.next_batch() == []
