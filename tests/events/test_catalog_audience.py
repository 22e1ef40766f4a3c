"""Open catalogs update live: a change to a published course (or one just unpublished) is told
to all of its institution's learners as catalog.changed, naming only the course; a draft's
changes and another institution's reach no learner."""

from typing import Any

from lectern.events.rules import LoggedEvent, Viewer
from lectern.live.fanout import Subscriber, Subscribers
from lectern.models.base import utcnow
from lectern.models.enums import Role
from tests.events.conftest import EventStream, StreamServer
from tests.factories import Person, World


def test_an_event_for_all_learners_reaches_the_institutions_learners_only() -> None:
    subscribers = Subscribers()
    learner = Subscriber(Viewer.of(1, 1, Role.STUDENT), 0, 8)
    classmate = Subscriber(Viewer.of(2, 1, Role.STUDENT), 0, 8)
    admin = Subscriber(Viewer.of(3, 1, Role.ADMIN), 0, 8)
    stranger = Subscriber(Viewer.of(4, 2, Role.STUDENT), 0, 8)
    for subscriber in (learner, classmate, admin, stranger):
        subscribers.add(subscriber)
    event = LoggedEvent(1, "catalog.changed", 1, None, "learners", {"course_id": 9}, utcnow(), 9)
    assert set(subscribers.matching(event)) == {learner, classmate}
    own = LoggedEvent(2, "enrollment.created", 1, 1, "both", {}, utcnow(), 9)
    assert set(subscribers.matching(own)) == {learner, admin}
    subscribers.discard(classmate)
    assert set(subscribers.matching(event)) == {learner}


async def _patch(world: World, admin: Person, course: dict[str, Any], body: dict[str, Any]) -> None:
    r = await world.client.patch(
        f"/api/v1/courses/{course['id']}", json=body, headers=admin.headers
    )
    assert r.status_code == 200, r.text


async def test_a_learners_stream_hears_of_published_courses_and_not_of_drafts(
    stream_server: StreamServer, world: World
) -> None:
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    elsewhere = await world.admin("Elsewhere College")
    draft = await world.course(admin, status="draft")
    listed = await world.course(admin, status="published")
    theirs = await world.course(elsewhere, status="published")
    # Changed last: what the stream hears before it is all it hears.
    last = await world.course(admin, status="published")

    async with EventStream(stream_server, learner) as stream:
        await _patch(world, admin, draft, {"title": "Still a draft"})
        await _patch(world, elsewhere, theirs, {"title": "Not this institution"})
        await _patch(world, admin, draft, {"status": "published"})
        await _patch(world, admin, listed, {"title": "Renamed"})
        await _patch(world, admin, listed, {"status": "archived"})
        await _patch(world, admin, listed, {"title": "Archived and renamed"})
        await _patch(world, admin, last, {"title": "The last change"})
        await stream_server.catch_up()
        heard = await stream.take(4)
        assert [(e.data["type"], e.data["payload"]) for e in heard] == [
            ("catalog.changed", {"course_id": draft["id"]}),
            ("catalog.changed", {"course_id": listed["id"]}),
            ("catalog.changed", {"course_id": listed["id"]}),
            ("catalog.changed", {"course_id": last["id"]}),
        ]
        assert all(e.data["user_id"] is None for e in heard)

    # A reconnect replays exactly the same from the log.
    async with EventStream(stream_server, learner, last_event_id=heard[0].id - 1) as replay:
        assert [e.id for e in await replay.take(4)] == [e.id for e in heard]
