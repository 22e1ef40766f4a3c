"""What every benchmark needs: a scratch PostgreSQL database and a real Lectern server."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lectern.platform.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class ScratchDatabase:
    async_url: str  # for Lectern (SQLAlchemy with asyncpg)
    sync_url: str  # for seeding (SQLAlchemy with psycopg)
    dsn: str  # for the raw baseline (asyncpg itself)


@contextmanager
def scratch_database(prefix: str) -> Iterator[ScratchDatabase]:
    """A migrated database of its own on LECTERN_BENCH_POSTGRES_URL's server, dropped after."""
    base = make_url(os.environ.get("LECTERN_BENCH_POSTGRES_URL", DEFAULT_URL))
    name = f"lectern_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    database = ScratchDatabase(
        async_url=url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
        sync_url=url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        dsn=url.set(drivername="postgresql").render_as_string(hide_password=False),
    )
    try:
        upgrade(database.async_url)
        yield database
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class RunningServer:
    port: int
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(database_url: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a benchmark's Lectern server runs with: no demo, no scheduled audit."""
    return os.environ | {
        "LECTERN_DATABASE_URL": database_url,
        "LECTERN_DEMO_ON_FIRST_START": "false",
        "LECTERN_AUDIT_INTERVAL_SECONDS": "86400",
        **(env or {}),
    }


def server_command(port: int, *options: str) -> list[str]:
    """`lectern serve` on `port`, as the benchmarks run it: quiet, and with several workers each
    accepting on a socket of its own (lectern.platform.serving)."""
    return [
        sys.executable, "-m", "lectern.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
        # The load generators' keep-alive connections wait out a paused baseline round.
        "--timeout-keep-alive", "600",
        *options,
    ]  # fmt: skip


@contextmanager
def lectern_server(
    database_url: str,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
    start_timeout_s: float = 90,
) -> Iterator["RunningServer"]:
    """A Lectern server (its processes) on a free port, stopped on exit."""
    port = free_port()
    environment = server_environment(database_url, env)
    command = server_command(port, "--workers", str(workers), *options)
    process = subprocess.Popen(command, env=environment, cwd=ROOT)  # noqa: S603 - our interpreter
    try:
        deadline = time.monotonic() + start_timeout_s
        while not is_healthy(port):
            if process.poll() is not None:
                raise RuntimeError("the server exited")
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield RunningServer(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def paused(server: RunningServer) -> Iterator[None]:
    """The server and its worker processes stopped (SIGSTOP) for a while, so that a baseline
    measured meanwhile pays nothing for them."""
    processes = [server.pid, *_descendants(server.pid)]
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)


def cpu_seconds(server: RunningServer) -> float:
    """CPU time (user and system) the server and its worker processes have used so far: a
    figure per request that a busy machine does not inflate, as it does wall-clock rates."""
    ticks = 0
    for pid in [server.pid, *_descendants(server.pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def is_healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    except httpx.TransportError:
        return False
