"""Live event stream: 1,000, 5,000 and 10,000 open streams on one server process.

Measures, at each level, the latency from commit to receipt (p50, p99) of events aimed at one
learner and of events broadcast to an institution's admins, and the server's resident memory
per open stream. Beside it: the original platform's 15-second polling, whose delay is uniform
over the interval (mean 7.5 s). Targets at 10,000 streams: p99 <= 50 ms, <= 50 KB per stream.

One uvicorn process serves; this process is the client (raw asyncio streams on uvloop) and
the writer (commands through lectern's Database, so each commit sends NOTIFY). As a floor for
the machine, the same commits are also timed as seen by a bare asyncpg LISTEN connection.
Learners' events go to one stream each; broadcasts go to the 100 admins of the learners'
institution, and to a second institution whose admins hold one stream in ten.

    .venv/bin/python bench/stream.py
"""

import asyncio
import gc
import os
import random
import re
import resource
import secrets
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import uvloop
from harness import RunningServer, lectern_server, scratch_database
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from lectern.events import service as events
from lectern.events.inflight import NOTIFY_CHANNEL
from lectern.events.service import record_event
from lectern.events.types import AuditRepaired, DomainEvent, NotificationCreated
from lectern.models import ApiToken, Institution, StudentProfile, User
from lectern.models.base import utcnow
from lectern.models.enums import Audience, Role
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.tokens import token_digest

LEVELS = tuple(int(n) for n in os.environ.get("BENCH_STREAM_LEVELS", "1000,5000,10000").split(","))
TEAM_ADMINS = 100  # admins of the learners' institution with a stream open
LEARNER_EVENTS = 200  # per level, one learner each
BROADCAST_EVENTS = 20  # per level and institution, to every admin stream of it
POLL_INTERVAL_S = 15.0
ID_PATTERN = re.compile(rb"\nid: (\d+)\n|^id: (\d+)\n")


@dataclass
class Person:
    user_id: int
    token: str


@dataclass
class Run:
    received: list[tuple[int, float]] = field(default_factory=list)
    notified: dict[int, float] = field(default_factory=dict)
    committed: dict[int, float] = field(default_factory=dict)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def seed(url: str, name: str, students: int, admins: int) -> tuple[int, list[Person], list[Person]]:
    """Bulk-insert an institution's people with Bearer tokens (no events: a quiet log)."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    now = utcnow()
    slug = name.lower()
    with engine.begin() as connection:
        institution_id = connection.execute(
            insert(Institution)
            .values(name=name, name_key=slug, slug=slug, created_at=now)
            .returning(Institution.id)
        ).scalar_one()
        rows = [
            {
                "institution_id": institution_id,
                "email": f"p{n}@{slug}.test",
                "email_key": f"p{n}@{slug}.test",
                "password_hash": "-",
                "full_name": f"Person {n}",
                "role": Role.ADMIN if n < admins else Role.STUDENT,
                "is_platform_admin": False,
                "created_at": now,
            }
            for n in range(admins + students)
        ]
        returning = insert(User).returning(User.id, sort_by_parameter_order=True)
        user_ids = [row[0] for row in connection.execute(returning, rows)]
        if students:
            connection.execute(
                insert(StudentProfile),
                [{"user_id": i, "bio": "", "created_at": now} for i in user_ids[admins:]],
            )
        tokens = [secrets.token_urlsafe(24) for _ in user_ids]
        connection.execute(
            insert(ApiToken),
            [
                {
                    "token_hash": token_digest(t),
                    "user_id": i,
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for t, i in zip(tokens, user_ids, strict=True)
            ],
        )
    engine.dispose()
    people = [Person(i, t) for i, t in zip(user_ids, tokens, strict=True)]
    return institution_id, people[:admins], people[admins:]


async def read_stream(reader: asyncio.StreamReader, run: Run, opened: asyncio.Future[None]) -> None:
    buffer = b""
    while not opened.done():
        chunk = await reader.read(4096)
        if not chunk:
            opened.set_exception(RuntimeError("stream closed before it opened"))
            return
        buffer += chunk
        if b": open\n\n" in buffer:
            opened.set_result(None)
    buffer = b""
    while chunk := await reader.read(65536):
        now = time.perf_counter()
        buffer += chunk
        end = buffer.rfind(b"\n\n")
        if end < 0:
            continue
        complete, buffer = buffer[: end + 2], buffer[end + 2 :]
        for match in ID_PATTERN.finditer(complete):
            run.received.append((int(match.group(1) or match.group(2)), now))


async def open_stream(port: int, person: Person, run: Run) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/stream HTTP/1.1\r\nHost: bench\r\n"
        f"Authorization: Bearer {person.token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    run.readers.append(asyncio.create_task(read_stream(reader, run, opened)))
    run.writers.append(writer)
    await opened


async def open_streams(port: int, people: list[Person], run: Run) -> None:
    for start in range(0, len(people), 250):
        await asyncio.gather(*(open_stream(port, p, run) for p in people[start : start + 250]))


def sample_event(audience: Audience) -> DomainEvent:
    """A small event of the catalogue that reaches `audience`."""
    if audience == Audience.LEARNER:
        return NotificationCreated(
            id=1,
            kind="bench",
            title="Progress 50 %",
            body="",
            link="",
            created_at=utcnow(),
            read_at=None,
        )
    return AuditRepaired(invariant="bench", row={"course_id": "1", "progress": "50"})


async def write_events(
    database: Database,
    institution_id: int,
    targets: list[Person],
    count: int,
    audience: Audience,
    spacing_s: float,
    run: Run,
) -> list[int]:
    ids = []
    for _ in range(count):
        target = random.choice(targets)

        async def command(session: AsyncSession, target: Person = target) -> int:
            record_event(
                session,
                sample_event(audience),
                institution_id=institution_id,
                user_id=target.user_id,
            )
            [event_id] = await events.write_events(session)
            return event_id

        event_id = await database.run(command)
        run.committed[event_id] = time.perf_counter()
        ids.append(event_id)
        await asyncio.sleep(spacing_s)
    return ids


async def latencies(ids: list[int], expected: int, run: Run) -> list[float]:
    wanted = set(ids)
    for _ in range(500):
        if sum(1 for event_id, _t in run.received if event_id in wanted) >= expected:
            break
        await asyncio.sleep(0.02)
    got = [(i, t) for i, t in run.received if i in wanted]
    if len(got) < expected:
        print(f"  ! only {len(got)} of {expected} deliveries arrived")
    return [max(0.0, t - run.committed[i]) * 1000 for i, t in got]


@dataclass
class Level:
    streams: int
    learner_ms: list[float]
    notify_ms: list[float]  # the same commits seen by a bare LISTEN connection: the floor
    broadcasts: list[tuple[int, list[float]]]  # (admin streams reached, latencies)
    kib_per_stream: float


async def measure(url: str) -> list[Level]:
    total = LEVELS[-1]
    # One institution has the learners and TEAM_ADMINS admins online; a second one has one
    # stream in ten as its admins, to see a broadcast fan out to a thousand streams.
    school, team, students = seed(url, "Bench", total - TEAM_ADMINS - total // 10, TEAM_ADMINS)
    crowd_school, crowd, _ = seed(url, "Crowd", 0, total // 10)
    with lectern_server(
        url, env={"LECTERN_DATABASE_POOL_SIZE": "8"}, options=("--backlog", "4096")
    ) as server:
        return await _measure(url, server, school, team, students, crowd_school, crowd)


async def _measure(
    url: str,
    server: RunningServer,
    school: int,
    team: list[Person],
    students: list[Person],
    crowd_school: int,
    crowd: list[Person],
) -> list[Level]:
    port = server.port
    database = Database(Settings(database_url=url, demo_on_first_start=False))
    run = Run()
    listener = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    # The payload is the id a transaction's events follow; each commit here writes one event.
    await listener.add_listener(
        NOTIFY_CHANNEL,
        lambda *args: run.notified.setdefault(int(args[3]) + 1, time.perf_counter()),
    )
    levels = []
    try:
        await asyncio.sleep(1.0)
        base_rss = rss_kib(server.pid)
        await open_streams(port, team, run)
        opened_crowd = opened_students = 0
        for level in LEVELS:
            new_crowd = crowd[opened_crowd : level // 10]
            new_students = students[opened_students : level - TEAM_ADMINS - level // 10]
            started = time.perf_counter()
            await open_streams(port, new_crowd + new_students, run)
            opened_crowd += len(new_crowd)
            opened_students += len(new_students)
            opening_s = time.perf_counter() - started
            # The client is the measuring instrument: keep its collector out of the figures.
            gc.collect()
            gc.freeze()
            await asyncio.sleep(1.0)
            kib = (rss_kib(server.pid) - base_rss) / level
            run.received.clear()
            ids = await write_events(
                database,
                school,
                students[:opened_students],
                LEARNER_EVENTS,
                Audience.LEARNER,
                0.01,
                run,
            )
            learner_ms = await latencies(ids, len(ids), run)
            notify_ms = [max(0.0, run.notified[i] - run.committed[i]) * 1000 for i in ids]
            broadcasts = []
            for institution_id, admins, spacing in (
                (school, team, 0.1),
                (crowd_school, crowd[:opened_crowd], 0.3),
            ):
                ids = await write_events(
                    database,
                    institution_id,
                    admins,
                    BROADCAST_EVENTS,
                    Audience.ADMINS,
                    spacing,
                    run,
                )
                broadcasts.append((len(admins), await latencies(ids, len(ids) * len(admins), run)))
            levels.append(Level(level, learner_ms, notify_ms, broadcasts, kib))
            print(
                f"{level:>6} streams (opened in {opening_s:4.1f} s): learner p50 "
                f"{statistics.median(learner_ms):.1f} ms p99 {percentile(learner_ms, 0.99):.1f} ms"
                + "".join(
                    f"; to {reached} admins p50 {statistics.median(ms):.1f} ms "
                    f"p99 {percentile(ms, 0.99):.1f} ms"
                    for reached, ms in broadcasts
                )
                + f"; {kib:.1f} KiB/stream",
                flush=True,
            )
    finally:
        for writer in run.writers:
            writer.close()
        for task in run.readers:
            task.cancel()
        await asyncio.gather(*run.readers, return_exceptions=True)
        await listener.close()
        await database.dispose()
    return levels


def report(levels: list[Level]) -> None:
    polling_p50_ms = POLL_INTERVAL_S / 2 * 1000
    polling_p99_ms = POLL_INTERVAL_S * 0.99 * 1000
    print()
    print("Commit-to-receipt delay, live stream vs the original 15-second polling")
    print("(polling delay is uniform over the interval: mean and p50 7.5 s, p99 14.85 s)")
    print(
        f"{'streams':>8} {'event aimed at':>16} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'poll p50 ms':>12} {'poll p99 ms':>12} {'p50 gain':>9} {'KiB/stream':>11}"
    )
    for level in levels:
        rows = [("bare NOTIFY", level.notify_ms), ("one learner", level.learner_ms)]
        rows += [(f"{reached} admins", ms) for reached, ms in level.broadcasts]
        for kind, values in rows:
            p50 = statistics.median(values)
            # The bare NOTIFY often lands before the writer's commit returns: no ratio for it.
            gain = f"{polling_p50_ms / p50:>8.0f}x" if p50 >= 0.1 else f"{'-':>9}"
            print(
                f"{level.streams:>8} {kind:>16} {p50:>8.1f} {percentile(values, 0.99):>8.1f} "
                f"{polling_p50_ms:>12.0f} {polling_p99_ms:>12.0f} {gain} "
                f"{level.kib_per_stream:>11.1f}"
            )
    last = levels[-1]
    print(f"\nAt {last.streams:,} streams (targets: p99 <= 50 ms, <= 50 KB per stream):")
    checks = [("one learner", last.learner_ms)]
    checks += [(f"{reached} admins", ms) for reached, ms in last.broadcasts]
    for kind, values in checks:
        p99 = percentile(values, 0.99)
        print(f"  aimed at {kind}: p99 {p99:.1f} ms, {'met' if p99 <= 50 else 'missed'}")
    kb = last.kib_per_stream * 1.024
    print(f"  memory: {kb:.1f} KB per stream, {'met' if kb <= 50 else 'missed'}")


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = LEVELS[-1] + 1024
    if hard < needed:
        raise SystemExit(f"needs {needed} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    started = time.perf_counter()
    with scratch_database("stream") as database:
        gc.disable()
        levels = uvloop.run(measure(database.async_url))
    report(levels)
    print(f"(whole run {time.perf_counter() - started:.0f} s; other work may share this machine)")


if __name__ == "__main__":
    main()
