"""One audience rule: reading the log and fanning out give exactly what `can_see` allows."""

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lectern.events import log
from lectern.events.rules import LoggedEvent, Viewer, can_see
from lectern.events.service import record_event, write_events
from lectern.events.types import ChapterAdded, DomainEvent
from lectern.live.fanout import Subscriber, Subscribers
from lectern.models.enums import Audience
from lectern.platform.db import Database
from tests.events.conftest import sample_event

# Ids far from the factories' institutions and users, so other tests' events stay out of sight.
INSTITUTIONS = st.integers(900_001, 900_003)
USERS = st.integers(900_001, 900_004)
COURSES = st.integers(900_001, 900_004)
AUDIENCES = st.sampled_from([a.value for a in Audience])

# Staff who follow every course of their institution (admins, courses None) or only some.
viewers = st.builds(
    Viewer,
    user_id=USERS,
    institution_id=INSTITUTIONS,
    is_staff=st.booleans(),
    courses=st.none() | st.frozensets(COURSES, max_size=3),
)
recorded = st.tuples(INSTITUTIONS, st.none() | USERS, AUDIENCES, st.none() | COURSES)
logged = st.builds(
    LoggedEvent,
    id=st.integers(1, 10**6),
    type=st.just("progress.updated"),
    institution_id=INSTITUTIONS,
    user_id=st.none() | USERS,
    audience=AUDIENCES,
    payload=st.just({}),
    created_at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
    course_id=st.none() | COURSES,
)


def about_course(n: int, audience: str, course_id: int | None) -> DomainEvent:
    """A sample event for `audience`, about `course_id` where the audience allows one."""
    if course_id is not None and audience == Audience.ADMINS:
        return ChapterAdded(course_id=course_id, chapter_id=n)
    event = sample_event(n, audience)
    if course_id is not None and audience == Audience.BOTH:
        return event.model_copy(update={"course_id": course_id})
    return event


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(events=st.lists(recorded, min_size=1, max_size=12), seen_by=st.lists(viewers, max_size=6))
async def test_reading_the_log_for_a_viewer_gives_exactly_what_can_see_allows(
    db: Database, events: list[tuple[int, int | None, str, int | None]], seen_by: list[Viewer]
) -> None:
    async def command(session: Any) -> list[int]:
        for n, (institution_id, user_id, audience, course_id) in enumerate(events):
            event = about_course(n, audience, course_id)
            record_event(session, event, institution_id=institution_id, user_id=user_id)
        return await write_events(session)

    ids = await db.run(command)
    after, upto = ids[0] - 1, ids[-1]
    async with db.reader() as reader:
        written = await log.read_between(reader, after, upto, len(ids))
        assert [e.id for e in written] == ids
        assert [e.course_id for e in written] == [
            about_course(n, audience, course_id).course()
            for n, (_, _, audience, course_id) in enumerate(events)
        ]
        for viewer in seen_by:
            read = await log.read_for(reader, viewer, after, upto, len(ids))
            assert [e.id for e in read] == [e.id for e in written if can_see(viewer, e)]


@given(streams=st.lists(viewers, max_size=12), events=st.lists(logged, max_size=12))
def test_fan_out_queues_an_event_for_exactly_the_streams_that_can_see_it(
    streams: list[Viewer], events: list[LoggedEvent]
) -> None:
    subscribers = Subscribers()
    for viewer in streams:
        subscribers.add(Subscriber(viewer, 0, 100))
    for event in events:
        reached = {id(s) for s in subscribers.matching(event)}
        assert reached == {id(s) for s in subscribers if can_see(s.viewer, event)}
