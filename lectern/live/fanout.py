"""A process's open streams, indexed so that an event reaches only the streams that may see it.

The index finds the streams that might (the event's learner's, its institution's admins', its
course's other staff's); `can_see` decides for each."""

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Collection, Iterable, Iterator

from lectern.events.rules import (
    ALL_LEARNERS,
    LEARNER_AUDIENCES,
    STAFF_AUDIENCES,
    LoggedEvent,
    Viewer,
    can_see,
)
from lectern.live import metrics

# An outgoing message: the event id and its encoded bytes, shared by every recipient.
Message = tuple[int, bytes]
# A comment that keeps proxies from closing an idle stream; its id is never skipped.
PING: Message = (-1, b": ping\n\n")


class Subscriber:
    """One open stream. Its queue is bounded: when it is full the subscriber is dropped, its
    queue emptied and its connection closed, and the client resumes with Last-Event-ID."""

    __slots__ = (
        "cut",
        "dropped",
        "ended",
        "floor",
        "queue",
        "sender",
        "sending_since",
        "start",
        "viewer",
    )

    def __init__(self, viewer: Viewer, start: int, queue_size: int) -> None:
        self.viewer = viewer
        # Every event up to `start` had been fanned out before this subscriber joined.
        self.start = start
        # Live events up to `floor` are skipped: the client already has them.
        self.floor = start
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue(queue_size)
        self.dropped = False
        # The task writing to the client, and since when it has been waiting on a send (0: not).
        self.sender: asyncio.Task[None] | None = None
        self.sending_since = 0.0
        self.cut = False
        self.ended = False

    async def next_batch(self) -> list[Message]:
        """Every message queued by now, in order, after waiting for the first; empty once the
        stream is to end. A busy stream thus sends what one drain delivered in one write."""
        if self.ended:
            return []
        batch: list[Message] = []
        item = await self.queue.get()
        while item is not None:
            batch.append(item)
            if self.queue.empty():
                return batch
            item = self.queue.get_nowait()
        self.ended = True
        return batch

    def end(self) -> None:
        """Close the stream after what it is sending now, forgetting whatever it had queued."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def cut_off(self) -> None:
        """End the stream, and if a send to the client is waiting, abandon it and the connection."""
        self.end()
        if self.sending_since and self.sender is not None and not self.cut:
            self.cut = True
            self.sender.cancel()

    def ping(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(PING)


class Subscribers:
    """Streams by learner, by institution (admins; learners apart), and by course (other staff,
    under each of their courses), so fan-out costs the matching streams."""

    def __init__(self) -> None:
        self._by_user: dict[int, set[Subscriber]] = {}
        self._by_institution: dict[int, set[Subscriber]] = {}
        self._learners_by_institution: dict[int, set[Subscriber]] = {}
        self._by_course: dict[int, set[Subscriber]] = {}
        self._all: set[Subscriber] = set()

    def __bool__(self) -> bool:
        return bool(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Subscriber]:
        return iter(self._all)

    def _places(self, viewer: Viewer) -> list[tuple[dict[int, set[Subscriber]], int]]:
        if not viewer.is_staff:
            return [
                (self._by_user, viewer.user_id),
                (self._learners_by_institution, viewer.institution_id),
            ]
        if viewer.courses is None:
            return [(self._by_institution, viewer.institution_id)]
        return [(self._by_course, course_id) for course_id in viewer.courses]

    def add(self, subscriber: Subscriber) -> None:
        self._all.add(subscriber)
        for index, key in self._places(subscriber.viewer):
            index.setdefault(key, set()).add(subscriber)

    def discard(self, subscriber: Subscriber) -> None:
        self._all.discard(subscriber)
        for index, key in self._places(subscriber.viewer):
            group = index.get(key)
            if group is not None:
                group.discard(subscriber)
                if not group:
                    del index[key]

    def move_institution(self, duplicates: Collection[int], into_id: int) -> None:
        """The streams of merged institutions' people follow them into the institution kept,
        so that its events keep reaching them without a reconnect."""
        moving = [s for s in self if s.viewer.institution_id in duplicates]
        for subscriber in moving:
            self.discard(subscriber)
            subscriber.viewer = dataclasses.replace(subscriber.viewer, institution_id=into_id)
            self.add(subscriber)

    def follow_course(self, user_id: int, course_id: int, following: bool) -> None:
        """A person made staff of a course, or no longer, has their open streams follow it or
        stop, without a reconnect. (Rare: looking through every stream is cheap enough.)"""
        for subscriber in [s for s in self._all if s.viewer.user_id == user_id]:
            courses = subscriber.viewer.courses
            if not subscriber.viewer.is_staff or courses is None:
                continue
            self.discard(subscriber)
            courses = courses | {course_id} if following else courses - {course_id}
            subscriber.viewer = dataclasses.replace(subscriber.viewer, courses=courses)
            self.add(subscriber)

    def candidates(self, event: LoggedEvent) -> Iterable[Subscriber]:
        """The streams that might see the event: its learner's if it is for the learner, its
        institution's admins' and its course's other staff's if it is for the admins, and its
        institution's learners' if it is for all of them."""
        if event.audience in LEARNER_AUDIENCES and event.user_id is not None:
            yield from self._by_user.get(event.user_id, ())
        if event.audience == ALL_LEARNERS:
            yield from self._learners_by_institution.get(event.institution_id, ())
        if event.audience in STAFF_AUDIENCES:
            yield from self._by_institution.get(event.institution_id, ())
            if event.course_id is not None:
                yield from self._by_course.get(event.course_id, ())

    def matching(self, event: LoggedEvent) -> Iterable[Subscriber]:
        for subscriber in self.candidates(event):
            if can_see(subscriber.viewer, event):
                yield subscriber

    def deliver(self, event: LoggedEvent, encode: Callable[[LoggedEvent], bytes]) -> int:
        """Queue the event, encoded once if any stream may see it, for every stream that may;
        drop those that are full."""
        full: list[Subscriber] = []
        queued = 0
        message = b""
        for subscriber in self.matching(event):
            message = message or encode(event)
            try:
                subscriber.queue.put_nowait((event.id, message))
                queued += 1
            except asyncio.QueueFull:
                full.append(subscriber)
        for subscriber in full:
            self.discard(subscriber)
            subscriber.dropped = True
            subscriber.cut_off()
            metrics.SUBSCRIBERS_DROPPED.inc()
        return queued
