"""Several processes: each worker accepts on a socket of its own, so connections spread."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lectern.platform import serving
from tests.conftest import free_port

ESTABLISHED, LISTENING = "01", "0A"


def test_a_listening_socket_is_tcp_and_joins_the_reuse_port_group() -> None:
    first = serving.listening_socket("127.0.0.1", 0, 16, reuse_port=True)
    port = first.getsockname()[1]
    second = serving.listening_socket("127.0.0.1", port, 16, reuse_port=True)
    try:
        # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on what such a socket
        # accepts.
        assert first.proto == socket.IPPROTO_TCP
        assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        with pytest.raises(OSError, match="in use"):
            serving.listening_socket("127.0.0.1", port, 16, reuse_port=False)
    finally:
        first.close()
        second.close()


def _sockets(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` holds."""
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return set()
    return {target[8:-1] for target in targets if target.startswith("socket:[")}


def _held(pid: int, port: int, state: str) -> int:
    """How many TCP sockets on local `port` in `state` the process holds."""
    inodes = _sockets(pid)
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(
        int(row[1].split(":")[1], 16) == port and row[3] == state and row[9] in inodes
        for row in rows
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.postgres_only
def test_two_workers_share_a_burst_of_keep_alive_connections(
    backend: str, empty_database: str
) -> None:
    port = free_port()
    environment = os.environ | {
        "LECTERN_DATABASE_URL": empty_database,
        "LECTERN_DEMO_ON_FIRST_START": "false",
        "LECTERN_DATABASE_POOL_SIZE": "4",
    }
    command = [sys.executable, "-m", "lectern.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=environment)  # noqa: S603 - our interpreter
    connections: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
            workers = [pid for pid in _children(server.pid) if _held(pid, port, LISTENING)]
        # A burst of keep-alive connections, as a proxy opens its pool or pages reconnect after
        # a deploy: the kernel completes them all before any worker accepts. From one shared
        # socket, the first worker to wake would accept every one.
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: lectern\r\n\r\n")
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        held = [_held(pid, port, ESTABLISHED) for pid in workers]
        assert sum(held) == 40
        assert min(held) >= 8, held
    finally:
        for connection in connections:
            connection.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
