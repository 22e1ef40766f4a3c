"""Request bodies are bounded: one over the limit is answered 413 before it is read whole."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from lectern.app import create_app
from lectern.platform.bodylimit import BodyLimit, declared_body_length
from lectern.platform.config import Settings
from lectern.platform.db import Database
from tests.conftest import LiveServer, free_port
from tests.factories import PASSWORD, World
from tests.rows import row_counts, scalar

MIB = 1024 * 1024
PROBLEM_TYPE = "https://lectern.dev/problems/payload-too-large"


def _registration(slug: str, email: str, size: int) -> bytes:
    """A valid registration body padded with JSON whitespace to exactly `size` bytes."""
    body = json.dumps(
        {"institution": slug, "email": email, "password": PASSWORD, "full_name": "Pat Padded"}
    ).encode()
    return body + b" " * (size - len(body))


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["status"]) == (PROBLEM_TYPE, 413)


async def _users_named(db: Database, email: str) -> int:
    return int(await scalar(db, "SELECT count(*) FROM users WHERE email = :e", e=email))


async def test_a_body_one_byte_over_the_limit_is_refused_and_writes_nothing(
    world: World, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await world.admin()
    before = await row_counts(db)
    body = _registration(admin.institution_slug, "over@example.test", settings.max_body_bytes + 1)

    r = await client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )

    _assert_too_large(r)
    assert await row_counts(db) == before


async def test_a_body_exactly_at_the_limit_is_handled_normally(
    world: World, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await world.admin()
    body = _registration(admin.institution_slug, "at@example.test", settings.max_body_bytes)

    r = await client.post(
        "/api/v1/auth/register", content=body, headers={"content-type": "application/json"}
    )

    assert r.status_code == 201, r.text
    assert await _users_named(db, "at@example.test") == 1


async def test_a_route_that_ignores_its_body_does_not_run_when_the_body_is_too_large(
    world: World, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await world.admin()
    course = await world.course(admin, access="open")
    student = await world.student(admin.institution_slug)
    enroll = f"/api/v1/courses/{course['id']}/enroll"
    enrollments = "SELECT count(*) FROM enrollments WHERE user_id = :u"

    r = await client.post(
        enroll, content=b" " * (settings.max_body_bytes + 1), headers=student.headers
    )

    _assert_too_large(r)
    assert await scalar(db, enrollments, u=student.id) == 0
    assert (await client.post(enroll, headers=student.headers)).status_code == 201
    assert await scalar(db, enrollments, u=student.id) == 1


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_chunked_body_over_the_limit_is_refused_over_a_real_connection(
    world: World, db: Database, live_server: LiveServer, settings: Settings
) -> None:
    admin = await world.admin()
    limit = settings.max_body_bytes
    over = _registration(admin.institution_slug, "chunked-over@example.test", limit + 1)
    within = _registration(admin.institution_slug, "chunked@example.test", limit)
    json_type = {"content-type": "application/json"}

    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        refused = await http.post("/api/v1/auth/register", content=_chunks(over), headers=json_type)
        # Nothing hangs after the refusal: the next request is served.
        accepted = await http.post(
            "/api/v1/auth/register", content=_chunks(within), headers=json_type
        )

    assert refused.request.headers["transfer-encoding"] == "chunked"
    _assert_too_large(refused)
    assert await _users_named(db, "chunked-over@example.test") == 0
    assert accepted.status_code == 201, accepted.text
    assert await _users_named(db, "chunked@example.test") == 1


def test_a_declared_length_over_the_limit_is_answered_before_any_body_arrives(
    live_server: LiveServer,
) -> None:
    head = (
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: lectern\r\n"
        "Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as connection:
        connection.sendall(head.encode())
        answer = _read_response(connection)

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["type"] == PROBLEM_TYPE


def _read_response(connection: socket.socket) -> bytes:
    """One HTTP response with a Content-Length, as it came off the socket."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(65536)
    head, body = answer.split(b"\r\n\r\n", 1)
    length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


async def _asgi_post(
    limit: int, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[list[dict[str, Any]], int, list[bytes]]:
    """Post `chunks` through the limit to an app that reads its whole body: what was sent
    back, how many times the limit called `receive`, and what the app was given."""
    pulled = 0
    given: list[bytes] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        more = pulled < len(chunks)
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": more}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def reader(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            given.append(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    await BodyLimit(reader, max_bytes=limit)(scope, receive, send)
    return sent, pulled, given


async def test_a_chunked_body_stops_being_read_as_soon_as_it_passes_the_limit() -> None:
    chunked = [(b"transfer-encoding", b"chunked")]
    sent, pulled, given = await _asgi_post(100, chunked, [b"x" * 40] * 10)

    assert (pulled, given) == (3, [b"x" * 40] * 2)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["type"] == PROBLEM_TYPE


async def test_a_declared_length_over_the_limit_is_refused_without_reading_or_running() -> None:
    sent, pulled, given = await _asgi_post(100, [(b"content-length", b"101")], [b"x" * 101])

    assert (pulled, given) == (0, [])
    assert sent[0]["status"] == 413


async def test_bodies_within_the_limit_reach_the_app_whole() -> None:
    sent, _, given = await _asgi_post(100, [(b"content-length", b"100")], [b"x" * 100])
    assert (sent[0]["status"], given) == (200, [b"x" * 100])

    sent, _, given = await _asgi_post(
        100, [(b"transfer-encoding", b"chunked")], [b"x" * 50, b"x" * 50]
    )
    assert (sent[0]["status"], given) == (200, [b"x" * 50] * 2)


def test_the_declared_length_says_when_a_body_must_be_counted() -> None:
    assert declared_body_length([(b"host", b"lectern")]) == 0
    assert declared_body_length([(b"content-length", b"42")]) == 42
    assert declared_body_length([(b"transfer-encoding", b"chunked")]) is None
    assert declared_body_length([(b"content-length", b"9"), (b"transfer-encoding", b"x")]) is None
    assert declared_body_length([(b"content-length", b"-1")]) is None
    assert declared_body_length([(b"content-length", b"1_0")]) is None


async def test_the_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTERN_MAX_BODY_BYTES", "100")
    assert Settings().max_body_bytes == 100
    monkeypatch.setenv("LECTERN_MAX_BODY_BYTES", "0")
    with pytest.raises(ValidationError, match="max_body_bytes"):
        Settings()
    assert Settings.model_fields["max_body_bytes"].default == MIB

    small = create_app(Settings(max_body_bytes=100))
    transport = httpx.ASGITransport(app=small)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        over = await http.post("/healthz", content=b"x" * 101)
        within = await http.post("/healthz", content=b"x" * 100)

    _assert_too_large(over)
    assert within.status_code == 405  # reached the routes, which have no POST /healthz


# The memory a real server process holds while bodies far over the limit arrive.

HUNDRED_MB = 100 * 1000 * 1000
CHUNK = b"x" * (256 * 1024)


def _hundred_mb() -> Iterator[bytes]:
    for _ in range(HUNDRED_MB // len(CHUNK)):
        yield CHUNK
    yield CHUNK[: HUNDRED_MB % len(CHUNK)]


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _post_hundred_mb(url: str, declared: bool) -> int:
    headers = {"content-type": "application/json"}
    if declared:
        headers["content-length"] = str(HUNDRED_MB)
    with httpx.Client(timeout=60) as http:
        return http.post(url, content=_hundred_mb(), headers=headers).status_code


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`lectern serve` in a process of its own, on a fresh SQLite file: its URL and pid."""
    port = free_port()
    environment = os.environ | {
        "LECTERN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'lectern.db'}",
        "LECTERN_DEMO_ON_FIRST_START": "false",
        "LECTERN_MEDIA_DIR": str(tmp_path / "media"),
    }
    command = [sys.executable, "-m", "lectern.cli", "serve", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    server = subprocess.Popen(command, env=environment, cwd=tmp_path)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("lectern serve did not start")
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(10)


def test_four_parallel_hundred_mb_bodies_are_refused_without_growing_the_server(
    served: tuple[str, int],
) -> None:
    url, pid = served
    for _ in range(3):  # the first answers load what every later request uses
        httpx.post(url + "/api/v1/auth/login", json={"email": "x@example.test", "password": "y"})
    resident_before = _memory_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak restarts from here

    slowest_health = 0.0
    with ThreadPoolExecutor(4) as pool:
        posts = [
            pool.submit(_post_hundred_mb, url + path, declared)
            for path in ("/api/v1/auth/login", "/api/v1/activity")
            for declared in (True, False)
        ]
        with httpx.Client(base_url=url, timeout=5) as http:
            while not all(post.done() for post in posts):
                started = time.monotonic()
                assert http.get("/healthz").status_code == 200
                slowest_health = max(slowest_health, time.monotonic() - started)
                time.sleep(0.02)
        statuses = [post.result() for post in posts]

    peak_growth_mb = (_memory_kib(pid, "VmHWM") - resident_before) / 1024
    print(f"server peak growth {peak_growth_mb:.1f} MB, slowest /healthz {slowest_health:.3f} s")
    assert statuses == [413, 413, 413, 413]
    assert peak_growth_mb < 50
    assert slowest_health < 0.5
