"""Learner activity ingest: events applied durably per second through HTTP, against raw upserts.

Lectern side: one uvicorn process serves `POST /api/v1/activity`; this process posts realistic
batches (mostly `video.watched` intervals over a learner's few videos, some readings marked
completed) from several learners at once. Every accepted event is merged into lesson_progress,
progress is recomputed and an event recorded, and each batch commits before it is answered.

Baseline, in the same run and on the same table: one autocommitted single-row
`INSERT … ON CONFLICT DO UPDATE` per event, sent straight to PostgreSQL over as many
connections as there are HTTP clients. Target: ratio (Lectern / raw) >= 1.0.

Both are measured with 10,000 and then 1,000,000 existing lesson_progress rows (bulk-loaded
with generate_series) to show that the cost per event does not grow with the table.

    .venv/bin/python bench/activity.py
"""

import asyncio
import json
import os
import random
import re
import secrets
import time
import uuid
from dataclasses import dataclass

import asyncpg
import uvloop
from harness import ScratchDatabase, lectern_server, scratch_database
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from lectern.platform.tokens import token_digest

LEARNERS = 64
VIDEOS = 20
VIDEO_S = 3600.0
BATCH = 250  # events per request
VIDEOS_PER_BATCH = 4  # a learner's batch covers a few videos, as a player syncing would
READING_SHARE = 0.05
CLIENTS = 8
MEASURE_S = 5.0
ROUNDS = 2  # best of, alternating Lectern and raw: others load this machine in bursts
BULK_LESSONS = 100
SIZES = (10_000, 1_000_000)


@dataclass
class Hot:
    tokens: list[str]
    enrollment_ids: list[int]
    videos: list[int]
    readings: list[int]


def seed(sync_url: str) -> Hot:
    """One institution, a course of long videos and readings, learners enrolled with tokens."""
    engine = create_engine(sync_url)
    with engine.begin() as c:
        institution = c.execute(
            text(
                "INSERT INTO institutions (name, name_key, slug, created_at) "
                "VALUES ('Bench Academy', 'bench academy', 'bench', now()) RETURNING id"
            )
        ).scalar_one()
        course = _course(c, institution, "Hot course", VIDEOS, kind="video")
        readings = _lessons(c, course, 5, kind="reading", start=VIDEOS)
        videos = (
            c.execute(
                text("SELECT id FROM lessons WHERE course_id = :c AND kind = 'video' ORDER BY id"),
                {"c": course},
            )
            .scalars()
            .all()
        )
        users = _users(c, institution, "hot", LEARNERS)
        enrollments = _enroll(c, users, course)
        tokens = [secrets.token_urlsafe(24) for _ in users]
        c.execute(
            text(
                "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at)"
                " VALUES (:h, :u, now(), now() + interval '1 day')"
            ),
            [{"h": token_digest(t), "u": u} for t, u in zip(tokens, users, strict=True)],
        )
    engine.dispose()
    return Hot(tokens, enrollments, list(videos), readings)


def _course(c: Connection, institution: int, title: str, lessons: int, kind: str) -> int:
    course: int = c.execute(
        text(
            "INSERT INTO courses (institution_id, title, slug, description, status, access, "
            "price_cents, currency, qbank_required, qbank_pass_mark, created_at, updated_at) "
            "VALUES (:i, :t, :s, '', 'published', 'open', 0, 'usd', false, 0.7, now(), now()) "
            "RETURNING id"
        ),
        {"i": institution, "t": title, "s": title.lower().replace(" ", "-")},
    ).scalar_one()
    _lessons(c, course, lessons, kind=kind)
    return course


def _lessons(c: Connection, course: int, count: int, *, kind: str, start: int = 0) -> list[int]:
    chapter = c.execute(
        text(
            "INSERT INTO chapters (course_id, title, position) VALUES (:c, 'Part', :p) RETURNING id"
        ),
        {"c": course, "p": start},
    ).scalar_one()
    return list(
        c.execute(
            text(
                "INSERT INTO lessons (chapter_id, course_id, title, kind, position, required, "
                "weight, duration_s, video_url, body, pass_mark, questions) "
                "SELECT :ch, :c, 'Lesson ' || g, :k, g, true, 1, :d, '', '', 0.7, '[]' "
                "FROM generate_series(1, :n) g RETURNING id"
            ),
            {"ch": chapter, "c": course, "k": kind, "n": count, "d": VIDEO_S},
        ).scalars()
    )


def _users(c: Connection, institution: int, prefix: str, count: int) -> list[int]:
    ids = list(
        c.execute(
            text(
                "INSERT INTO users (institution_id, email, email_key, password_hash, full_name, "
                "role, is_platform_admin, created_at) "
                "SELECT :i, :p || g || '@bench.test', :p || g || '@bench.test', '-', "
                "'Learner ' || g, 'student', false, now() FROM generate_series(1, :n) g "
                "RETURNING id"
            ),
            {"i": institution, "p": prefix, "n": count},
        ).scalars()
    )
    c.execute(
        text(
            "INSERT INTO student_profiles (user_id, bio, languages, interests, created_at) "
            "SELECT unnest(CAST(:ids AS int[])), '', '[]', '[]', now()"
        ),
        {"ids": ids},
    )
    return ids


def _enroll(c: Connection, users: list[int], course: int) -> list[int]:
    return list(
        c.execute(
            text(
                "INSERT INTO enrollments (user_id, course_id, status, source, progress, "
                "created_at, updated_at) SELECT unnest(CAST(:u AS int[])), :c, 'active', "
                "'import', 0, now(), now() ORDER BY 1 RETURNING id"
            ),
            {"u": users, "c": course},
        ).scalars()
    )


def grow_existing_rows(sync_url: str, target: int) -> int:
    """Bulk-load other learners' lesson_progress rows until the table holds `target`."""
    engine = create_engine(sync_url)
    with engine.begin() as c:
        have = c.execute(text("SELECT count(*) FROM lesson_progress")).scalar_one()
        missing_enrollments = max(0, (target - have) // BULK_LESSONS)
        if missing_enrollments:
            institution = c.execute(text("SELECT min(id) FROM institutions")).scalar_one()
            course = _course(c, institution, f"Bulk {uuid.uuid4().hex[:6]}", BULK_LESSONS, "video")
            users = _users(c, institution, f"bulk{uuid.uuid4().hex[:6]}-", missing_enrollments)
            _enroll(c, users, course)
            c.execute(
                text(
                    "INSERT INTO lesson_progress (enrollment_id, lesson_id, watched, watched_s, "
                    "best_score, completed_at, updated_at) "
                    "SELECT e.id, l.id, '[[0.0, 600.0]]'::jsonb, 600, NULL, NULL, now() "
                    "FROM enrollments e JOIN lessons l ON l.course_id = e.course_id "
                    "WHERE e.course_id = :c"
                ),
                {"c": course},
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
        # Write the loaded pages out now, not during the measurement that follows.
        c.execute(text("CHECKPOINT"))
        rows: int = c.execute(text("SELECT count(*) FROM lesson_progress")).scalar_one()
    engine.dispose()
    return rows


def pages_per_lookup(sync_url: str, hot: Hot) -> dict[str, int]:
    """Buffer pages PostgreSQL touches for the batch's reads of lesson_progress, from
    EXPLAIN (ANALYZE, BUFFERS): independent of how busy the machine is."""
    enrollments = hot.enrollment_ids[:2]
    lookups = {
        "facts of a batch": (
            "SELECT * FROM lesson_progress WHERE (enrollment_id, lesson_id) IN "
            "((:e1, :l1), (:e1, :l2), (:e2, :l1), (:e2, :l2))"
        ),
        "progress items": (
            "SELECT e.id, l.id, lp.lesson_id IS NOT NULL FROM enrollments e "
            "JOIN lessons l ON l.course_id = e.course_id AND l.required "
            "LEFT JOIN lesson_progress lp ON lp.enrollment_id = e.id AND lp.lesson_id = l.id "
            "AND lp.completed_at IS NOT NULL WHERE e.id IN (:e1, :e2)"
        ),
    }
    params = {"e1": enrollments[0], "e2": enrollments[1], "l1": hot.videos[0], "l2": hot.videos[1]}
    engine = create_engine(sync_url)
    pages = {}
    with engine.connect() as c:
        for name, sql in lookups.items():
            plan = c.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"), params)
            top = plan.scalar_one()[0]["Plan"]
            pages[name] = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    engine.dispose()
    return pages


def batch_body(hot: Hot, rng: random.Random) -> bytes:
    videos = rng.sample(hot.videos, VIDEOS_PER_BATCH)
    events: list[dict[str, object]] = []
    cursor = {v: rng.uniform(0, VIDEO_S - 600) for v in videos}
    for _ in range(BATCH):
        if rng.random() < READING_SHARE:
            events.append({"type": "lesson.completed", "lesson_id": rng.choice(hot.readings)})
            continue
        video = rng.choice(videos)
        start = cursor[video]
        end = min(VIDEO_S, start + rng.uniform(5, 15))
        cursor[video] = end if end < VIDEO_S else 0.0
        events.append(
            {
                "type": "video.watched",
                "lesson_id": video,
                "from_s": round(start, 2),
                "to_s": round(end, 2),
            }
        )
    return json.dumps({"events": events}).encode()


ACCEPTED = re.compile(rb'"accepted":(\d+)')


async def post_batches(port: int, requests: list[bytes], stop: float) -> int:
    """One keep-alive connection posting prepared requests until `stop`; a bare HTTP/1.1
    client, so that the load generator takes little of the CPU the server needs."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    accepted, i = 0, 0
    try:
        while time.perf_counter() < stop:
            writer.write(requests[i % len(requests)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            body = await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"activity answered {status}: {body[:300]!r}")
            accepted += int(ACCEPTED.search(body).group(1))  # type: ignore[union-attr]
    finally:
        writer.close()
    return accepted


async def http_rate(port: int, hot: Hot) -> float:
    """Accepted events per second through POST /api/v1/activity, CLIENTS at once."""
    rng = random.Random(7)
    requests = []
    for i in range(400):
        body = batch_body(hot, rng)
        requests.append(
            b"POST /api/v1/activity HTTP/1.1\r\nHost: bench\r\n"
            + f"Authorization: Bearer {hot.tokens[i % LEARNERS]}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    started = time.perf_counter()
    stop = started + MEASURE_S
    counts = await asyncio.gather(
        *(post_batches(port, requests[n::CLIENTS], stop) for n in range(CLIENTS))
    )
    return sum(counts) / (time.perf_counter() - started)


async def raw_rate(dsn: str, hot: Hot) -> float:
    """Autocommitted single-row upserts per second, one per event, CLIENTS connections."""
    statement = (
        "INSERT INTO lesson_progress (enrollment_id, lesson_id, watched, watched_s, best_score, "
        "completed_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, NULL, NULL, now()) "
        "ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET watched = excluded.watched, "
        "watched_s = greatest(lesson_progress.watched_s, excluded.watched_s), "
        "updated_at = excluded.updated_at"
    )
    done = 0
    stop = time.perf_counter() + MEASURE_S

    async def client(n: int) -> None:
        nonlocal done
        rng = random.Random(n)
        connection = await asyncpg.connect(dsn)
        try:
            prepared = await connection.prepare(statement)
            while time.perf_counter() < stop:
                start = rng.uniform(0, VIDEO_S - 15)
                await prepared.fetch(
                    rng.choice(hot.enrollment_ids),
                    rng.choice(hot.videos),
                    json.dumps([[start, start + 10]]),
                    10.0,
                )
                done += 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return done / (time.perf_counter() - started)


def main() -> None:
    with scratch_database("activity") as database:
        uvloop.run(measure(database))


async def measure(database: ScratchDatabase) -> None:
    sync_url, dsn = database.sync_url, database.dsn
    with lectern_server(database.async_url) as server:
        port = server.port
        hot = seed(sync_url)
        print(
            f"load average before measuring: {os.getloadavg()[0]:.2f} (other work slows both sides)"
        )
        print(
            f"batches of {BATCH} events over {VIDEOS_PER_BATCH} videos, {CLIENTS} clients at "
            f"once, best of {ROUNDS} measures of {MEASURE_S:g} s"
        )
        results = []
        for size in SIZES:
            rows = grow_existing_rows(sync_url, size)
            await http_rate(port, hot)  # warm up caches and the connection pool
            lectern, raw = 0.0, 0.0
            for _ in range(ROUNDS):
                lectern = max(lectern, await http_rate(port, hot))
                raw = max(raw, await raw_rate(dsn, hot))
            results.append((rows, lectern, raw))
            pages = pages_per_lookup(sync_url, hot)
            print(
                f"{rows:>9,} rows: Lectern {lectern:>8,.0f} events/s "
                f"({1e6 / lectern:6.1f} µs/event) | raw upserts {raw:>7,.0f}/s "
                f"({1e6 / raw:6.1f} µs/event) | ratio {lectern / raw:5.2f}"
            )
            print(
                "           pages touched: "
                + ", ".join(f"{name} {count}" for name, count in pages.items())
            )
        (small, small_rate, _), (large, large_rate, _) = results[0], results[-1]
        print(
            f"cost per event at {large:,} rows / at {small:,} rows: "
            f"{small_rate / large_rate:.2f} (1.00 = flat; timing varies with the machine's load, "
            "the pages touched do not)"
        )


if __name__ == "__main__":
    main()
