"""Streams open while their institution is merged into another keep receiving what their
people may see, without a reconnect."""

import dataclasses
from dataclasses import dataclass

import httpx

from lectern.events.rules import LoggedEvent, Viewer, merged_institutions
from lectern.live.fanout import Subscriber, Subscribers
from lectern.models.base import utcnow
from tests.events.conftest import EventStream, StreamServer
from tests.factories import Person, World


def merged_event(into_id: int, *duplicate_ids: int) -> LoggedEvent:
    merged = [{"id": i, "name": f"Dup {i}", "slug": f"dup-{i}"} for i in duplicate_ids]
    payload = {"institution_id": into_id, "merged": merged, "users_moved": 0, "courses_moved": 0}
    return LoggedEvent(1, "institution.merged", into_id, None, "admins", payload, utcnow())


def test_a_merge_event_names_the_duplicates_and_the_institution_kept() -> None:
    assert merged_institutions(merged_event(1, 2, 3)) == (frozenset({2, 3}), 1)
    other = dataclasses.replace(merged_event(1, 2), type="course.updated")
    assert merged_institutions(other) is None


def test_moving_an_institution_reindexes_its_learners_and_staff_only() -> None:
    subscribers = Subscribers()
    learner = Subscriber(Viewer(10, 2, is_staff=False), 0, 8)
    admin = Subscriber(Viewer(11, 2, is_staff=True), 0, 8)
    bystander = Subscriber(Viewer(12, 3, is_staff=True), 0, 8)
    for subscriber in (learner, admin, bystander):
        subscribers.add(subscriber)

    subscribers.move_institution({2}, 1)

    assert learner.viewer == Viewer(10, 1, is_staff=False)
    assert admin.viewer == Viewer(11, 1, is_staff=True)
    assert bystander.viewer == Viewer(12, 3, is_staff=True)
    staff_event = LoggedEvent(2, "x", 1, None, "admins", {}, utcnow())
    assert list(subscribers.matching(staff_event)) == [admin]
    learner_event = LoggedEvent(3, "x", 1, 10, "learner", {}, utcnow())
    assert list(subscribers.matching(learner_event)) == [learner]
    assert len(subscribers) == 3


@dataclass(frozen=True)
class Duplicates:
    platform: Person
    keep: Person  # the admin of the institution kept
    dup: Person  # the admin of its duplicate
    learner: Person  # a student of the duplicate

    async def merge(self, server: StreamServer) -> None:
        path = f"/api/v1/platform/institutions/{self.keep.institution_id}/merge"
        body = {"duplicate_ids": [self.dup.institution_id]}
        async with httpx.AsyncClient(base_url=server.url) as http:
            response = await http.post(path, json=body, headers=self.platform.headers)
        assert response.status_code == 200, response.text


async def duplicates(world: World, name: str) -> Duplicates:
    dup = await world.admin(f"{name} Academy Online")
    return Duplicates(
        platform=await world.admin(f"{name} Operations", platform_admin=True),
        keep=await world.admin(f"{name} Academy"),
        dup=dup,
        learner=await world.student(dup.institution_slug),
    )


async def test_open_streams_follow_their_people_into_the_institution_kept(
    stream_server: StreamServer, world: World
) -> None:
    pair = await duplicates(world, "Stream")
    keep_id = pair.keep.institution_id

    async with (
        EventStream(stream_server, pair.dup) as dup_admin_stream,
        EventStream(stream_server, pair.learner) as learner_stream,
        EventStream(stream_server, pair.keep) as keep_admin_stream,
    ):
        await pair.merge(stream_server)
        for stream in (dup_admin_stream, keep_admin_stream):
            [announced] = await stream.take(1)
            assert announced.data["type"] == "institution.merged"
            assert announced.data["institution_id"] == keep_id

        moved = dataclasses.replace(pair.learner, institution_id=keep_id)
        [event_id] = await stream_server.record(moved, audience="both")

        for stream in (learner_stream, dup_admin_stream, keep_admin_stream):
            [received] = await stream.take(1)
            assert received.id == event_id
            assert received.data["institution_id"] == keep_id


async def test_a_stream_reopened_after_a_merge_replays_the_relabelled_history(
    stream_server: StreamServer, world: World
) -> None:
    pair = await duplicates(world, "Replay")
    [before] = await stream_server.record(pair.learner, audience="both")

    await pair.merge(stream_server)

    for person in (pair.learner, pair.dup):
        async with EventStream(stream_server, person, last_event_id=before - 1) as stream:
            [replayed] = await stream.take(1)
        assert replayed.id == before
        assert replayed.data["institution_id"] == pair.keep.institution_id
