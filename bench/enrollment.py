"""Approvals per second through HTTP, against the same SQL executed straight by asyncpg.

Lectern side: `lectern serve` (one process, or --workers each on a socket of its own) on PostgreSQL;
this process sends `POST /api/v1/admin/access-requests/{id}/approve` for distinct pending
requests (many students, many courses) from CLIENTS keep-alive connections at once. Each
approval authenticates the Bearer token, locks the learner-course pair, approves the request,
upserts the enrollment, records the events and the learner's notification, and commits before
it is answered.

With --streams N, N live admin pages (`GET /api/v1/stream` as the institution's admin) stay
open through Lectern's rounds and must each receive the two events every approval shows
admins; the ratio then also prices the fan-out. The baseline's events are labelled with an
institution nobody watches, so the streams never carry them.

Baseline, in the same run: the statements an approval emits (read from the SQL echo of
`approve_request`, listed in RAW_APPROVAL: the request, the enrollment, the learner's
notification and e-mail, the events), with the same parameters, executed by asyncpg over
CLIENTS connections, one transaction per approval plus the token lookup. The ratio
(Lectern / raw) prices HTTP, FastAPI, pydantic and the SQLAlchemy ORM, and the live-event pump
that wakes on every commit.

    .venv/bin/python bench/enrollment.py [--requests N] [--clients C] [--workers W] [--rounds R]
                                         [--streams S]
"""

import argparse
import asyncio
import hashlib
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from harness import cpu_seconds, lectern_server, paused, scratch_database
from sqlalchemy import create_engine, text

ADMIN_TOKEN = "bench-admin-token"
COURSES = 40
UNWATCHED_INSTITUTION = 2  # the baseline's events go here: no stream sees them
# The baseline's e-mail to the learner: as long as the one Lectern renders.
MAIL_TEXT = "Your request for access to Course 1 was approved.\n" * 5
MAIL_HTML = "<p>Your request for access to <strong>Course 1</strong> was approved.</p>\n" * 7
ADMIN_EVENTS_PER_APPROVAL = 2  # enrollment.created and request.approved; the notification's
# event is the learner's


def seed(sync_url: str, per_side: int) -> tuple[list[int], list[int]]:
    """An institution, an admin with a token, COURSES approval courses, and 2 x per_side
    pending requests of distinct (student, course) pairs: one half for each side."""
    students = (2 * per_side + COURSES - 1) // COURSES
    engine = create_engine(sync_url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO institutions (id, name, name_key, slug, created_at) "
                "VALUES (1, 'Bench Academy', 'bench academy', 'bench', now())"
            )
        )
        c.execute(
            text(
                "INSERT INTO users (institution_id, email, email_key, password_hash, full_name, "
                "role, is_platform_admin, created_at) VALUES (1, 'admin@bench.test', "
                "'admin@bench.test', '-', 'Bench Admin', 'admin', false, now())"
            )
        )
        c.execute(
            text(
                "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) "
                "SELECT :h, id, now(), now() + interval '1 day' FROM users "
                "WHERE email_key = 'admin@bench.test'"
            ),
            {"h": hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()},
        )
        c.execute(
            text(
                "INSERT INTO courses (institution_id, title, slug, description, status, access, "
                "price_cents, currency, qbank_required, qbank_pass_mark, created_at, updated_at) "
                "SELECT 1, 'Course ' || g, 'course-' || g, '', 'published', 'approval', 0, "
                "'usd', false, 0.7, now(), now() FROM generate_series(1, :n) g"
            ),
            {"n": COURSES},
        )
        c.execute(
            text(
                "INSERT INTO users (institution_id, email, email_key, password_hash, full_name, "
                "role, is_platform_admin, created_at) SELECT 1, 's' || g || '@bench.test', "
                "'s' || g || '@bench.test', '-', 'Student ' || g, 'student', false, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"n": students},
        )
        c.execute(
            text(
                "INSERT INTO student_profiles (user_id, bio, languages, interests, created_at) "
                "SELECT id, '', '[]', '[]', now() FROM users WHERE role = 'student'"
            )
        )
        c.execute(
            text(
                "INSERT INTO mail_preferences (user_id, signing_key, choices, updated_at) "
                "SELECT id, md5(random()::text) || md5(random()::text), '{}', now() "
                "FROM users WHERE role = 'student'"
            )
        )
        requests = list(
            c.execute(
                text(
                    "INSERT INTO access_requests (user_id, course_id, status, note, created_at) "
                    "SELECT u.id, c.id, 'pending', '', now() FROM users u CROSS JOIN courses c "
                    "WHERE u.role = 'student' ORDER BY random() LIMIT :n RETURNING id"
                ),
                {"n": 2 * per_side},
            ).scalars()
        )
    engine.dispose()
    return requests[:per_side], requests[per_side:]


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares the machine's two cores
    with the server and PostgreSQL, so it should cost as little as possible per request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class AdminStream:
    """One admin's live page: GET /api/v1/stream, counting the events it receives."""

    def __init__(self) -> None:
        self.received = 0
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, port: int) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(
            f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {ADMIN_TOKEN}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        buffer = b""
        while b": open\n\n" not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("the stream closed before it opened")
            buffer += chunk
        self.task = asyncio.create_task(self._count(reader, buffer.split(b": open\n\n", 1)[1]))

    async def _count(self, reader: asyncio.StreamReader, buffer: bytes) -> None:
        while chunk := await reader.read(65536):
            *messages, buffer = (buffer + chunk).split(b"\n\n")
            # Chunked transfer encoding puts chunk sizes between messages: look inside each.
            self.received += sum(b"id: " in message for message in messages)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            self.writer.close()


async def delivered(streams: list[AdminStream], expected: int, within: float = 30.0) -> None:
    """Wait until every stream has received `expected` events; fail if one has not in time."""
    deadline = time.monotonic() + within
    while any(stream.received < expected for stream in streams):
        if time.monotonic() > deadline:
            counts = sorted({stream.received for stream in streams})
            raise RuntimeError(f"streams received {counts} events, {expected} expected")
        await asyncio.sleep(0.05)
    if any(stream.received > expected for stream in streams):
        raise RuntimeError(f"a stream received an event twice: more than {expected}")


async def http_rate(connections: list[Connection], request_ids: list[int]) -> float:
    queue = list(request_ids)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def client(connection: Connection) -> None:
        while queue:
            request_id = queue.pop()
            path = f"/api/v1/admin/access-requests/{request_id}/approve"
            status, body = await connection.request("POST", path, headers)
            if status != 200:
                raise RuntimeError(f"approval answered {status}: {body.decode()}")

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    return len(request_ids) / (time.perf_counter() - started)


# What one approval executes, in order (SQLAlchemy's echo of approve_request, PostgreSQL).
AUTH = (
    "SELECT users.id, users.institution_id, users.role, users.is_platform_admin, users.email, "
    "users.full_name FROM users JOIN api_tokens ON api_tokens.user_id = users.id "
    "WHERE api_tokens.token_hash = $1 AND api_tokens.expires_at > $2"
)
RAW_APPROVAL = {
    "pair_lock": (
        "SELECT user_id, course_id, pg_advisory_xact_lock(user_id, course_id) "
        "FROM access_requests WHERE id = $1"
    ),
    "close_request": (
        "UPDATE access_requests SET status = 'approved', note = $2, reviewer_id = $3, "
        "reviewed_at = $4 WHERE id = $1 AND status = 'pending' AND course_id IN "
        "(SELECT id FROM courses WHERE institution_id = $5) RETURNING access_requests.*, "
        "(SELECT title FROM courses WHERE courses.id = access_requests.course_id) AS title, "
        "(SELECT institution_id FROM courses WHERE courses.id = access_requests.course_id) "
        "AS institution_id"
    ),
    "current_enrollment": "SELECT * FROM enrollments WHERE user_id = $1 AND course_id = $2",
    "course_terms": "SELECT seat_limit, waitlist, access_days FROM courses WHERE id = $1",
    "enroll": (
        "INSERT INTO enrollments (user_id, course_id, status, source, progress, ends_at, "
        "created_at, updated_at) VALUES ($1, $2, 'active', 'request', 0, NULL, $3, $3) "
        "ON CONFLICT (user_id, course_id) DO UPDATE SET status = 'active', "
        "source = excluded.source, completed_at = NULL, ends_at = excluded.ends_at, "
        "expiry_notified_at = NULL, updated_at = $3 "
        "WHERE enrollments.status = 'cancelled' OR enrollments.status = 'expired' RETURNING *"
    ),
    "notification": (
        "INSERT INTO notifications (user_id, kind, title, body, link, created_at) "
        "VALUES ($1, 'request.approved', $2, '', $3, $4) RETURNING *"
    ),
    "recipient": (
        "SELECT users.email, users.full_name, mail_preferences.user_id, "
        "mail_preferences.signing_key, mail_preferences.choices, mail_preferences.updated_at "
        "FROM users LEFT OUTER JOIN mail_preferences ON mail_preferences.user_id = users.id "
        "WHERE users.id = $1"
    ),
    "mail": (
        "INSERT INTO mail_outbox (user_id, institution_id, kind, status, to_address, subject, "
        "text_body, html_body, unsubscribe_url, message_id, attempts, created_at, "
        "next_attempt_at) VALUES ($1, $2, 'request_reviewed', 'pending', $3, $4, $5, $6, $7, "
        "$8, 0, $9, $9)"
    ),
    "announce_writer": (
        "SELECT pg_advisory_xact_lock_shared((2000000000 + (k >> 31))::int, "
        "(k & 2147483647)::int), pg_notify('lectern_events', k::text), "
        "pg_current_xact_id()::text AS xid FROM (SELECT CASE "
        "WHEN is_called THEN last_value ELSE last_value - 1 END AS k FROM events_id_seq) AS head"
    ),
    "events": (
        "INSERT INTO events (type, institution_id, user_id, audience, payload, created_at) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6), ($7, $2, $3, $4, $5::jsonb, $6), "
        "($8, $2, $3, 'learner', $5::jsonb, $6) RETURNING id"
    ),
}


async def raw_approval(connection: asyncpg.Connection, token_hash: str, request_id: int) -> None:
    sql = RAW_APPROVAL
    now = datetime.now(UTC)
    admin = await connection.fetchrow(AUTH, token_hash, now)
    async with connection.transaction():
        pair = await connection.fetchrow(sql["pair_lock"], request_id)
        user_id = pair["user_id"]
        request = await connection.fetchrow(
            sql["close_request"], request_id, "", admin["id"], now, admin["institution_id"]
        )
        await connection.fetchrow(sql["current_enrollment"], user_id, request["course_id"])
        await connection.fetchrow(sql["course_terms"], request["course_id"])
        enrollment = await connection.fetchrow(sql["enroll"], user_id, request["course_id"], now)
        await connection.fetchrow(sql["notification"], user_id, request["title"], "/courses", now)
        learner = await connection.fetchrow(sql["recipient"], user_id)
        await connection.execute(
            sql["mail"],
            user_id,
            admin["institution_id"],
            learner["email"],
            f"Your request for {request['title']} was approved",
            MAIL_TEXT,
            MAIL_HTML,
            f"http://127.0.0.1/mail/unsubscribe?token={user_id}.request_reviewed.x",
            f"<{uuid.uuid4().hex}@bench.test>",
            now,
        )
        await connection.execute(sql["announce_writer"])
        payload = json.dumps({k: str(v) for k, v in dict(enrollment).items()})
        kinds = ("enrollment.created", "request.approved", "notification.created")
        institution = UNWATCHED_INSTITUTION
        await connection.fetch(
            sql["events"], kinds[0], institution, user_id, "both", payload, now, kinds[1], kinds[2]
        )


async def raw_rate(connections: list[asyncpg.Connection], request_ids: list[int]) -> float:
    queue = list(request_ids)
    token_hash = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()

    async def client(connection: asyncpg.Connection) -> None:
        while queue:
            await raw_approval(connection, token_hash, queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    return len(request_ids) / (time.perf_counter() - started)


async def check(dsn: str, approved: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        enrollments = await connection.fetchval("SELECT count(*) FROM enrollments")
        pending = await connection.fetchval(
            "SELECT count(*) FROM access_requests WHERE status = 'pending'"
        )
    finally:
        await connection.close()
    if enrollments != approved or pending != 0:
        raise RuntimeError(f"{enrollments} enrollments for {approved} approvals, {pending} pending")


async def measure(args: argparse.Namespace, database_url: str, dsn: str, sync_url: str) -> None:
    warmup = min(200, args.requests // 5)
    batch = args.requests // args.rounds
    http_ids, raw_ids = seed(sync_url, batch * args.rounds + warmup)
    rounds: list[tuple[float, float]] = []
    server_cpu = 0.0
    with lectern_server(database_url, workers=args.workers) as server:
        http = [await Connection.open(server.port) for _ in range(args.clients)]
        raw = [await asyncpg.connect(dsn) for _ in range(args.clients)]
        streams = [AdminStream() for _ in range(args.streams)]
        try:
            for stream in streams:
                await stream.open(server.port)
            await http_rate(http, http_ids[:warmup])
            with paused(server):
                await raw_rate(raw, raw_ids[:warmup])
            # Rounds alternate, so that a slower moment of a shared machine weighs on both sides.
            for n in range(args.rounds):
                ids = slice(warmup + n * batch, warmup + (n + 1) * batch)
                started, cpu = time.perf_counter(), cpu_seconds(server)
                await http_rate(http, http_ids[ids])
                # Lectern's round ends when every open page has shown every approval.
                approved = warmup + (n + 1) * batch
                await delivered(streams, approved * ADMIN_EVENTS_PER_APPROVAL)
                lectern = batch / (time.perf_counter() - started)
                server_cpu += cpu_seconds(server) - cpu
                with paused(server):  # its pump would wake on the baseline's commits
                    rounds.append((lectern, await raw_rate(raw, raw_ids[ids])))
        finally:
            for stream in streams:
                stream.close()
            for connection in http:
                connection.close()
            for pg in raw:
                await pg.close()
    await check(dsn, warmup * 2 + batch * args.rounds * 2)
    print(f"approvals: {batch * args.rounds} per side in {args.rounds} alternating rounds, "
          f"{args.clients} concurrent clients, {args.workers} server process(es), "
          f"{args.streams} admin stream(s) open")  # fmt: skip
    for n, (lectern, baseline) in enumerate(rounds, 1):
        print(f"  round {n}: Lectern {lectern:6.0f}/s  raw {baseline:6.0f}/s  "
              f"ratio {lectern / baseline:.2f}")  # fmt: skip
    lectern = statistics.median(r[0] for r in rounds)
    baseline = statistics.median(r[1] for r in rounds)
    ratio = statistics.median(r[0] / r[1] for r in rounds)
    print(f"Lectern over HTTP      {lectern:8.0f} approvals/s (median)")
    print(f"raw SQL with asyncpg   {baseline:8.0f} approvals/s (median)")
    print(f"ratio (Lectern / raw)  {ratio:8.2f}   (median of rounds; target >= 0.5)")
    print(f"server CPU per approval {1000 * server_cpu / (batch * args.rounds):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--streams", type=int, default=0, help="admin streams open meanwhile")
    args = parser.parse_args()
    with scratch_database("enrollment") as database:
        asyncio.run(measure(args, database.async_url, database.dsn, database.sync_url))


if __name__ == "__main__":
    main()
