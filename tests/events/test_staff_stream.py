"""An instructor's stream carries the events of the courses they are staff of, and follows the
courses they are given or lose while it is open."""

from typing import Any

from lectern.events.rules import LoggedEvent, Viewer, staff_change
from lectern.live.fanout import Subscriber, Subscribers
from lectern.models.base import utcnow
from lectern.models.enums import Role
from tests.events.conftest import EventStream, StreamServer
from tests.factories import Person, World


def about(course_id: int, event_id: int = 1) -> LoggedEvent:
    return LoggedEvent(event_id, "course.updated", 1, None, "admins", {}, utcnow(), course_id)


def test_an_instructors_stream_follows_a_course_they_are_given_and_stops_when_it_is_taken() -> None:
    subscribers = Subscribers()
    instructor = Subscriber(Viewer.of(5, 1, Role.INSTRUCTOR, frozenset({10})), 0, 8)
    admin = Subscriber(Viewer.of(6, 1, Role.ADMIN), 0, 8)
    subscribers.add(instructor)
    subscribers.add(admin)
    assert set(subscribers.matching(about(11))) == {admin}

    given = LoggedEvent(
        2, "course.staff_assigned", 1, None, "admins", {"user_id": 5, "course_id": 11}, utcnow()
    )
    change = staff_change(given)
    assert change == (5, 11, True)
    subscribers.follow_course(*change)
    assert set(subscribers.matching(about(11))) == {admin, instructor}
    assert set(subscribers.matching(about(10))) == {admin, instructor}

    subscribers.follow_course(5, 10, False)
    assert set(subscribers.matching(about(10))) == {admin}
    assert instructor.viewer.courses == frozenset({11})
    assert len(subscribers) == 2


async def rename(world: World, admin: Person, course: dict[str, Any], title: str) -> None:
    r = await world.client.patch(
        f"/api/v1/courses/{course['id']}", json={"title": title}, headers=admin.headers
    )
    assert r.status_code == 200, r.text


async def test_an_instructors_stream_gets_their_courses_events_and_not_another_courses(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    instructor = await world.admin(role=Role.INSTRUCTOR)
    theirs = await world.course(admin)
    other = await world.course(admin)
    await world.make_staff(admin, theirs, instructor, "ta")

    async with EventStream(stream_server, instructor) as stream:
        await rename(world, admin, other, "Not yours")
        await rename(world, admin, theirs, "Yours")
        await stream_server.catch_up()
        first = await stream.next()
        assert (first.data["type"], first.data["payload"]["id"]) == ("course.updated", theirs["id"])
        assert first.data["payload"]["title"] == "Yours"

        # Given the other course while the stream is open, it follows that one too.
        await world.make_staff(admin, other, instructor, "observer")
        await rename(world, admin, other, "Now yours")
        await stream_server.catch_up()
        given, renamed = await stream.take(2)
        assert given.data["type"] == "course.staff_assigned"
        assert given.data["payload"] == {
            "course_id": other["id"],
            "user_id": instructor.id,
            "role": "observer",
        }
        assert renamed.data["type"] == "course.updated"
        assert (renamed.data["payload"]["id"], renamed.data["payload"]["title"]) == (
            other["id"],
            "Now yours",
        )

    # Reconnecting from the start replays exactly their courses' events.
    async with EventStream(stream_server, instructor, last_event_id=first.id - 1) as replay:
        replayed = await replay.take(3)
        assert [r.id for r in replayed] == [first.id, given.id, renamed.id]
