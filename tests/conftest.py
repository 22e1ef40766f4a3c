"""A real database per backend and run: SQLite always, PostgreSQL when LECTERN_TEST_POSTGRES_URL
is set (CI sets it, and then an unreachable server fails the run rather than skipping it)."""

import os

# Cheap password hashing for tests; set before lectern reads its settings.
os.environ.setdefault("LECTERN_ARGON2_TIME_COST", "1")
os.environ.setdefault("LECTERN_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("LECTERN_DEMO_ON_FIRST_START", "false")

import asyncio
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lectern.app import create_app
from lectern.models import Base
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.migrate import upgrade
from tests.factories import World

POSTGRES_URL = os.environ.get("LECTERN_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL:
        _check_postgres_reachable(POSTGRES_URL)


def _check_postgres_reachable(url: str) -> None:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise pytest.UsageError(f"LECTERN_TEST_POSTGRES_URL is set but unreachable: {exc}") from exc
    finally:
        engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        postgres_only = metafunc.definition.get_closest_marker("postgres_only") is not None
        metafunc.parametrize(
            "backend", ["postgresql"] if postgres_only else BACKENDS, scope="session"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this run, migrated to head, dropped afterwards."""
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "lectern.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    name = f"lectern_test_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name, drivername="postgresql+asyncpg").render_as_string(
        hide_password=False
    )
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A throwaway database of its own, not the session's, without any tables."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"lectern_empty_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name, drivername="postgresql+asyncpg").render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        login_rate_limit="1000/minute",
        login_rate_limit_per_ip="100000/minute",
        demo_on_first_start=False,
        stream_ping_seconds=1.0,
        # The xAPI tests run their LRS on this machine and drive its delivery themselves.
        xapi_allow_loopback_http=True,
        xapi_worker=False,
        # `lectern serve` puts where it listens into the environment for its workers; a test
        # that ran it in this process must not decide the links of the apps made after it.
        public_url=None,
        # Tests drive the webhooks worker themselves, to a receiver on 127.0.0.1 (tests/webhooks).
        webhooks_worker=False,
        webhooks_allow_loopback_http=True,
        # The session's app lives in the test loop, which stands still between async tests: a
        # timed write it had begun would keep SQLite's write lock while sync tests (schemathesis,
        # the browser) drive the live server. No test waits for these jobs' timers.
        expiry_interval_seconds=24 * 3600,
        audit_interval_seconds=24 * 3600,
    )


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def db(app: FastAPI) -> Database:
    database: Database = app.state.database
    return database


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(autouse=True)
def _public_url_not_left_behind() -> Iterator[None]:
    """`lectern serve` sets LECTERN_PUBLIC_URL for its workers; run in a test, it is unset after."""
    before = os.environ.get("LECTERN_PUBLIC_URL")
    yield
    if before is None:
        os.environ.pop("LECTERN_PUBLIC_URL", None)
    else:
        os.environ["LECTERN_PUBLIC_URL"] = before


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts from empty tables (only for tests that use a database)."""
    if "db" not in request.fixturenames and "app" not in request.fixturenames:
        yield
        return
    database: Database = request.getfixturevalue("db")
    yield
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with database.engine.begin() as connection:
        if database.is_postgres:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


@pytest.fixture
def world(db: Database, client: httpx.AsyncClient) -> World:
    return World(db, client)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A real uvicorn server in a thread, for streaming and truly concurrent HTTP."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=asyncio.run, args=(self.server.serve(),), daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("live server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server
