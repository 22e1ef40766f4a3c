"""A real Lectern (uvicorn, demo data, its own SQLite file) and Debian's Chromium driven by
Playwright. Playwright never downloads a browser: it is told where Chromium is."""

import asyncio
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from lectern.app import create_app
from lectern.demo.service import DEMO_PASSWORD, load_demo
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.migrate import upgrade
from tests.conftest import POSTGRES_URL, make_settings

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ADMIN_EMAIL = "admin@northwind.test"
STUDENT_EMAIL = "student@northwind.test"
INSTITUTION_SLUG = "northwind-academy"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DemoServer:
    """Lectern under uvicorn in a thread, on a database holding the demo data."""

    def __init__(self, settings: Settings, port: int, database_path: Path | None) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.database_path = database_path
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=asyncio.run, args=(self.server.serve(),), daemon=True)

    def __enter__(self) -> "DemoServer":
        self.thread.start()
        for _ in range(1000):
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("demo server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _create_postgres_database() -> str:
    name = f"lectern_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _postgres_admin_url() -> URL:
    return make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")


@pytest.fixture
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DemoServer]:
    """A fresh demo installation per test, so that tests never see each other's clicks; on
    SQLite unless a test asks for PostgreSQL with `parametrize("site", ..., indirect=True)`."""
    backend = getattr(request, "param", "sqlite")
    path: Path | None = None
    postgres_name = ""
    if backend == "sqlite":
        path = tmp_path / "web.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        postgres_name = await asyncio.to_thread(_create_postgres_database)
        url = (
            _postgres_admin_url()
            .set(database=postgres_name, drivername="postgresql+asyncpg")
            .render_as_string(hide_password=False)
        )
    try:
        await asyncio.to_thread(upgrade, url)
        port = _free_port()
        public_url = f"http://127.0.0.1:{port}"
        settings = make_settings(url).model_copy(update={"public_url": public_url})
        database = Database(settings)
        try:
            await database.run(load_demo)
        finally:
            await database.dispose()
        server = DemoServer(settings, port, path)
        await asyncio.to_thread(server.__enter__)
        try:
            yield server
        finally:
            await asyncio.to_thread(server.__exit__, None, None, None)
    finally:
        if postgres_name:
            await asyncio.to_thread(_drop_postgres_database, postgres_name)


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        raise pytest.UsageError(f"{CHROMIUM} is missing: run scripts/install-browser")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    _require_chromium()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@dataclass
class Visitors:
    """Browser contexts (one per person) whose pages must never log a console error."""

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def person(self) -> Page:
        context = await self.browser.new_context(
            base_url=self.base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        self.contexts.append(context)
        return await self.tab(context)

    async def tab(self, context: BrowserContext) -> Page:
        """Another page of the same person (same cookies), watched like the first."""
        page = await context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    async def logged_in(self, email: str, password: str = DEMO_PASSWORD) -> Page:
        page = await self.person()
        await log_in(page, email, password)
        return page


async def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(lambda url: "/login" not in url)


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def visitors(site: DemoServer, browser: Browser) -> AsyncIterator[Visitors]:
    people = Visitors(browser, site.url)
    yield people
    for context in people.contexts:
        await context.close()
    assert people.errors == [], "console errors:\n" + "\n".join(people.errors)


async def mark_document(page: Page) -> None:
    """Tag the loaded document, so that `still_same_document` can prove nothing reloaded it."""
    await page.evaluate("window.__lecternUnreloaded = true")


async def still_same_document(page: Page) -> bool:
    return bool(await page.evaluate("window.__lecternUnreloaded === true"))


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !(el.labels && el.labels.length)
    && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map((el) => el.outerHTML)"""


async def assert_every_control_labelled(page: Page) -> None:
    unlabelled = await page.evaluate(UNLABELLED_CONTROLS)
    assert unlabelled == [], f"{page.url}: controls without a label: {unlabelled}"
