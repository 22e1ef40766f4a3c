"""GET /api/v1/stream against a real server, on every backend."""

import asyncio
import logging
import socket
from collections.abc import Callable

import httpx
import pytest
from prometheus_client import REGISTRY

from lectern.events import log
from lectern.events.rules import Viewer
from lectern.live.fanout import Subscriber
from lectern.live.response import UNFINISHED_RESPONSE
from tests.events.conftest import EventStream, StreamServer, record_through
from tests.factories import PASSWORD, Person, World


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_stream_needs_a_logged_in_caller(stream_server: StreamServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{stream_server.url}/api/v1/stream")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        response = await http.get(
            f"{stream_server.url}/api/v1/stream", headers={"Authorization": "Bearer nope"}
        )
        assert response.status_code == 401


async def test_a_malformed_last_event_id_gets_422(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    async with httpx.AsyncClient() as http:
        for headers, query in (
            ({"Last-Event-ID": "abc"}, ""),
            ({"Last-Event-ID": "-1"}, ""),
            ({"Last-Event-ID": "1.5"}, ""),
            ({}, "?last_event_id=x"),
            ({}, "?last_event_id=-4"),
        ):
            response = await http.get(
                f"{stream_server.url}/api/v1/stream{query}", headers=admin.headers | headers
            )
            assert response.status_code == 422, (headers, query)
            assert response.json()["status"] == 422


async def test_events_arrive_live_as_sse_messages(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    async with EventStream(stream_server, student) as stream:
        [event_id] = await stream_server.record(student, note="hello world")
        [message] = await stream.take(1)
    assert message.id == event_id
    assert message.event == "message"
    assert message.data["id"] == event_id
    assert message.data["type"] == "progress.updated"
    assert message.data["user_id"] == student.id
    assert message.data["institution_id"] == student.institution_id
    assert message.data["payload"] == {
        "enrollment_id": 0,
        "course_id": 1,
        "course_title": "hello world",
        "progress": 0.0,
        "previous": 0.0,
        "status": "active",
    }
    assert message.data["created_at"].endswith("Z")


async def test_with_no_stream_open_the_pump_rests_and_a_new_stream_starts_from_now(
    stream_server: StreamServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    read_between = log.read_between
    reads: list[tuple[int, int]] = []

    async def counted(connection: object, after: int, upto: int, limit: int) -> object:
        reads.append((after, upto))
        return await read_between(connection, after, upto, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(log, "read_between", counted)
    assert not stream_server.pump.subscribers
    resting_at = stream_server.pump.cursor
    passed = await stream_server.record(student, 3)
    await stream_server.catch_up()
    assert stream_server.pump.cursor == resting_at
    assert reads == []
    async with EventStream(stream_server, student) as stream:
        assert stream_server.pump.cursor >= passed[-1]
        [later] = await stream_server.record(student)
        [message] = await stream.take(1)
    assert message.id == later
    assert reads
    assert all(after >= passed[-1] for after, _ in reads)


async def test_a_commit_while_the_first_stream_subscribes_is_delivered_at_once(
    stream_server: StreamServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no stream open, a commit wakes nobody; one that lands between the first stream's
    # catch-up and its subscription must still be delivered without waiting for the poll.
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    pump = stream_server.pump
    catch_up = pump._catch_up
    landed: list[int] = []

    async def then_a_commit() -> None:
        await catch_up()
        landed.extend(await record_through(stream_server.database, student))

    monkeypatch.setattr(pump, "_catch_up", then_a_commit)
    assert not pump.subscribers
    async with EventStream(stream_server, student) as stream:
        [message] = await stream.take(1, within=5)
    assert [message.id] == landed


async def test_a_client_that_reconnects_with_last_event_id_gets_exactly_what_it_missed(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    student = await world.student(admin.institution_slug)
    async with EventStream(stream_server, student) as stream:
        first = [id for _ in range(5) for id in await stream_server.record(student)]
        seen = [m.id for m in await stream.take(5)]
    assert seen == first
    missed = [id for _ in range(10) for id in await stream_server.record(student)]
    async with EventStream(stream_server, student, last_event_id=seen[-1]) as stream:
        replayed = [m.id for m in await stream.take(10)]
        # Live events follow the replay, with nothing doubled at the switch.
        live = await stream_server.record(student)
        assert [m.id for m in await stream.take(1)] == live
    assert replayed == missed


async def test_the_query_parameter_resumes_like_the_header(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    [before] = await stream_server.record(admin)
    missed = await stream_server.record(admin, 3)
    query = f"?last_event_id={before}"
    async with EventStream(stream_server, admin, query=query) as stream:
        assert [m.id for m in await stream.take(3)] == missed


async def test_resuming_from_the_newest_event_replays_nothing(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    [newest] = await stream_server.record(admin)
    async with EventStream(stream_server, admin, last_event_id=newest) as stream:
        live = await stream_server.record(admin)
        assert [m.id for m in await stream.take(1)] == live


async def test_a_student_never_receives_another_students_events_nor_admin_only_ones(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    alice = await world.student(admin.institution_slug)
    bob = await world.student(admin.institution_slug)
    async with EventStream(stream_server, alice) as stream:
        await stream_server.record(bob, 3)
        await stream_server.record(alice, audience="admins")
        [own] = await stream_server.record(alice, audience="learner")
        # Delivery is in log order, so anything Alice should not see would arrive before this.
        assert [m.id for m in await stream.take(1)] == [own]
    # Replayed from the table, the same rule holds.
    async with EventStream(stream_server, alice, last_event_id=0) as stream:
        [marker] = await stream_server.record(alice)
        received = [await stream.next()]
        while received[-1].id != marker:
            received.append(await stream.next())
    assert own in [m.id for m in received]
    assert {m.data["user_id"] for m in received} == {alice.id}


async def test_an_admin_never_receives_another_institutions_events(
    stream_server: StreamServer, world: World
) -> None:
    ours = await world.admin("Northwind Academy")
    theirs = await world.admin("Southwind College")
    their_student = await world.student(theirs.institution_slug)
    our_student = await world.student(ours.institution_slug)
    async with EventStream(stream_server, ours) as stream:
        await stream_server.record(their_student, 2)
        await stream_server.record(theirs, audience="admins")
        await stream_server.record(our_student, audience="learner")
        expected = await stream_server.record(our_student, audience="both")
        expected += await stream_server.record(ours, audience="admins")
        received = await stream.take(2)
    assert [m.id for m in received] == expected
    assert {m.data["institution_id"] for m in received} == {ours.institution_id}


async def wait_for(condition: Callable[[], bool]) -> None:
    """Wait up to ten seconds for `condition` to hold."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


def streams_of(server: StreamServer, person: Person) -> list[Subscriber]:
    return [s for s in server.pump.subscribers if s.viewer.user_id == person.id]


async def test_a_closed_stream_is_unsubscribed(stream_server: StreamServer, world: World) -> None:
    admin = await world.admin()
    open_before = sample("lectern_stream_open")
    async with EventStream(stream_server, admin):
        assert len(streams_of(stream_server, admin)) == 1
        assert sample("lectern_stream_open") == open_before + 1
    await wait_for(lambda: not streams_of(stream_server, admin))
    await wait_for(lambda: sample("lectern_stream_open") == open_before)


def open_without_reading(server: StreamServer, person: Person) -> socket.socket:
    """A raw stream request on a socket with a tiny receive window, never read from."""
    sock = socket.socket()
    # Set before connecting, so that the window it advertises stays small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        f"GET /api/v1/stream HTTP/1.1\r\nHost: test\r\n"
        f"Authorization: Bearer {person.token}\r\n\r\n".encode()
    )
    return sock


def released(subscriber: Subscriber) -> Callable[[], bool]:
    """Whether the request serving `subscriber` has returned: nothing waits on its client."""
    return lambda: subscriber.sender is not None and subscriber.sender.done()


async def test_a_client_that_stops_reading_is_dropped_with_bounded_memory(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    sleeper = await world.student(admin.institution_slug)
    queue_size = stream_server.pump.queue_size
    stream_server.pump.queue_size = 50
    dropped_before = sample("lectern_stream_subscribers_dropped_total")
    sock = open_without_reading(stream_server, sleeper)
    try:
        await wait_for(lambda: len(streams_of(stream_server, sleeper)) == 1)
        [subscriber] = streams_of(stream_server, sleeper)
        async with EventStream(stream_server, admin) as reader:
            sent: list[int] = []
            padding = "x" * 4000
            for _ in range(2000):
                sent += await stream_server.record(sleeper, 4, note=padding)
                assert subscriber.queue.qsize() <= 50
                received = [m.id for m in await reader.take(4)]
                assert received == sent[-4:]
                if subscriber.dropped:
                    break
        assert subscriber.dropped
        # Nothing it missed is kept: only the end-of-stream marker, and it left the index.
        assert subscriber.queue.qsize() <= 1
        assert streams_of(stream_server, sleeper) == []
        assert sample("lectern_stream_subscribers_dropped_total") == dropped_before + 1
        # The reader that kept up was never dropped.
        assert len(sent) > 50
        await wait_for(released(subscriber))
    finally:
        sock.close()
        stream_server.pump.queue_size = queue_size


async def test_a_send_that_waits_past_the_send_timeout_closes_the_stream(
    stream_server: StreamServer, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(caplog.handler)
    admin = await world.admin()
    sleeper = await world.student(admin.institution_slug)
    send_timeout = stream_server.pump.send_timeout
    stream_server.pump.send_timeout = 0.5
    sock = open_without_reading(stream_server, sleeper)
    try:
        await wait_for(lambda: len(streams_of(stream_server, sleeper)) == 1)
        [subscriber] = streams_of(stream_server, sleeper)
        padding = "x" * 8000
        for _ in range(100):
            *_, last = await stream_server.record(sleeper, 4, note=padding)
            await wait_for(lambda last=last: stream_server.pump.cursor >= last)  # fanned out
            if subscriber.queue.qsize() >= 8:  # a backlog: its send is waiting on the client
                break
        # Far fewer events than its queue holds: it is cut off for waiting, not for lagging.
        assert subscriber.queue.qsize() < stream_server.pump.queue_size
        await wait_for(lambda: subscriber.cut)
        assert not subscriber.dropped
        assert streams_of(stream_server, sleeper) == []
        await wait_for(released(subscriber))
        # uvicorn has logged what it logs of the response by now: a stream cut off on purpose
        # is not an error.
        assert UNFINISHED_RESPONSE not in [record.getMessage() for record in caplog.records]
    finally:
        server_log.removeHandler(caplog.handler)
        sock.close()
        stream_server.pump.send_timeout = send_timeout


async def test_metrics_report_streams_deliveries_drops_and_lag(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        await stream_server.record(admin, 2)
        await stream.take(2)
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{stream_server.url}/metrics")
    assert response.status_code == 200
    text = response.text
    for name in (
        "lectern_stream_open ",
        "lectern_stream_events_delivered_total ",
        "lectern_stream_subscribers_dropped_total ",
        "lectern_stream_pump_lag_seconds_bucket",
        "lectern_stream_pump_lag_seconds_count ",
    ):
        assert name in text, name
    assert sample("lectern_stream_events_delivered_total") >= 2
    assert sample("lectern_stream_pump_lag_seconds_count") >= 2


def test_viewer_of_a_student_is_scoped_to_themselves() -> None:
    assert Viewer.of(1, 2, "student") == Viewer(1, 2, False)


async def test_an_idle_stream_receives_comment_pings(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:
        assert stream.lines is not None
        async with asyncio.timeout(10):
            while (await anext(stream.lines)) != ": ping":
                pass


async def test_streams_ended_by_the_server_finish_cleanly_and_unsubscribe(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin) as stream:

        async def end_streams() -> None:
            stream_server.pump.end_streams()

        await stream_server.call(end_streams)
        with pytest.raises(AssertionError, match="the stream ended"):
            await stream.next()
    await wait_for(lambda: not streams_of(stream_server, admin))


async def test_a_browser_session_cookie_opens_a_stream(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    await stream_server.catch_up()
    async with httpx.AsyncClient(base_url=stream_server.url) as browser:
        login = await browser.post(
            "/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        async with browser.stream("GET", "/api/v1/stream?last_event_id=0") as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            [marker] = await stream_server.record(admin, audience="admins")
            async with asyncio.timeout(10):
                while (await anext(lines)) != f"id: {marker}":
                    pass


async def test_the_stream_is_described_in_the_openapi_document(
    stream_server: StreamServer,
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{stream_server.url}/openapi.json")
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/stream"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]


async def test_a_last_event_id_beyond_the_log_does_not_hold_live_events_back(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    async with EventStream(stream_server, admin, last_event_id=10**12) as stream:
        live = await stream_server.record(admin, audience="admins")
        assert [m.id for m in await stream.take(1)] == live
