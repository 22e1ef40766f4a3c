"""A real learning record store for the xAPI tests: Ralph's LRS (installed into a venv of its own
by scripts/ensure-ralph) in a subprocess, storing to files, with one account per school. Each
account's statements go to a folder of their own, which each test starts empty."""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest

from lectern.outbound.worker import OutboundWorker
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.xapi.delivery import XAPI, Lrs
from tests.conftest import free_port
from tests.factories import Person, World
from tests.learning.course_fixtures import Classroom, classroom
from tests.outbound.conftest import quick_settings

ROOT = Path(__file__).resolve().parents[2]
RALPH_PYTHON = ROOT / ".venv-ralph" / "bin" / "python"
STARTUP_SECONDS = 90


@dataclass(frozen=True)
class Account:
    key: str
    secret: str
    target: str


ACCOUNTS = {
    "north": Account("north-key", "north-secret-0123456789", "north"),
    "south": Account("south-key", "south-secret-0123456789", "south"),
}


class Ralph:
    """Ralph's LRS on a free port; `stop` and `start` again keep its store and its port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = root / "store"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI"
        self.process: subprocess.Popen[bytes] | None = None
        auth = [
            {
                "username": account.key,
                "hash": bcrypt.hashpw(account.secret.encode(), bcrypt.gensalt(4)).decode(),
                "scopes": ["all"],
                "agent": {
                    "objectType": "Agent",
                    "account": {"homePage": "https://lrs.invalid", "name": account.key},
                },
                "target": account.target,
            }
            for account in ACCOUNTS.values()
        ]
        (root / "auth.json").write_text(json.dumps(auth))

    def start(self) -> None:
        env = {
            **os.environ,
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.store),
            "RALPH_AUTH_FILE": str(self.root / "auth.json"),
            "RALPH_APP_DIR": str(self.root / "app"),
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [str(RALPH_PYTHON), str(Path(__file__).with_name("ralph_server.py")), str(self.port)],
            env=env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph's LRS exited with {self.process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__lbheartbeat__").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("Ralph's LRS did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def empty(self) -> None:
        shutil.rmtree(self.store, ignore_errors=True)
        for account in ACCOUNTS.values():
            (self.store / account.target).mkdir(parents=True)

    def stored(self, school: str) -> list[dict[str, Any]]:
        """The statements the LRS holds for the school's account, in the order it stored them."""
        path = self.store / ACCOUNTS[school].target / "fs_lrs.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    subprocess.run([str(ROOT / "scripts" / "ensure-ralph")], check=True, stdin=subprocess.DEVNULL)  # noqa: S603
    server = Ralph(tmp_path_factory.mktemp("ralph"))
    server.empty()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def lrs(ralph: Ralph) -> Iterator[Ralph]:
    """The LRS, empty, and running (a test that stopped it gets it started again)."""
    ralph.empty()
    if ralph.process is None:
        ralph.start()
    yield ralph
    if ralph.process is None:
        ralph.start()


@pytest.fixture
def sender(db: Database, settings: Settings) -> OutboundWorker[Lrs]:
    """The xAPI delivery worker, as the app runs it, without jitter."""
    quick = quick_settings(settings, outbound_timeout_seconds=10.0)
    return OutboundWorker(db, quick, XAPI, jitter=lambda: 0.0)


async def add_lrs(
    client: httpx.AsyncClient, admin: Person, ralph: Ralph, school: str, **fields: Any
) -> dict[str, Any]:
    account = ACCOUNTS[school]
    body = {
        "name": f"{school} LRS",
        "endpoint": ralph.url,
        "key": account.key,
        "secret": account.secret,
        **fields,
    }
    r = await client.post("/api/v1/admin/xapi/destinations", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    destination: dict[str, Any] = r.json()
    return destination


@dataclass(frozen=True)
class NorthLrs:
    """A classroom whose admin added the LRS (its north account): the LRS, the destination as
    its creation answered, and its admin API path."""

    lrs: Ralph
    room: Classroom
    destination: dict[str, Any]
    url: str


@pytest.fixture
async def north(world: World, client: httpx.AsyncClient, lrs: Ralph) -> NorthLrs:
    room = await classroom(world, client)
    destination = await add_lrs(client, room.admin, lrs, "north")
    return NorthLrs(lrs, room, destination, f"/api/v1/admin/xapi/destinations/{destination['id']}")
