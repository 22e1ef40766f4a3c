"""Signing in: strong passwords, one trimming rule, and throttling that strangers cannot turn
against an account's owner."""

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from lectern import cli
from lectern.app import create_app
from lectern.platform.config import Settings, get_settings
from lectern.platform.db import Database
from lectern.platform.serving import proxy_options
from tests.conftest import free_port, make_settings
from tests.factories import PASSWORD, World
from tests.rows import row_counts

COMMON_PASSWORDS = ("password", "12345678", "qwertyuiop")


async def test_common_passwords_are_refused_at_registration_saying_why(
    world: World, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await world.admin()
    before = await row_counts(db)
    for password in COMMON_PASSWORDS:
        r = await client.post(
            "/api/v1/auth/register",
            json={
                "institution": admin.institution_slug,
                "email": "nia@example.test",
                "password": password,
                "full_name": "Nia New",
            },
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/weak-password")
        assert "too easy to guess" in r.json()["detail"]
        assert "common password" in r.json()["detail"]
    assert await row_counts(db) == before


@pytest.fixture
def lectern_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def invoke(url: str, *args: str) -> Any:
        monkeypatch.setenv("LECTERN_DATABASE_URL", url)
        get_settings.cache_clear()
        return CliRunner().invoke(cli.app, list(args))

    yield invoke
    get_settings.cache_clear()


def _create_admin(lectern_cli: Any, url: str, password: str) -> Any:
    return lectern_cli(
        url,
        "create-admin",
        "--institution",
        "Cli Academy",
        "--email",
        "root@cli.test",
        "--password",
        password,
    )


@pytest.mark.parametrize("password", COMMON_PASSWORDS)
def test_create_admin_refuses_a_common_password_saying_why(
    lectern_cli: Any, empty_database: str, password: str
) -> None:
    result = _create_admin(lectern_cli, empty_database, password)
    assert result.exit_code == 2
    assert "too easy to guess" in result.output


async def _sign_in_to(url: str, password: str) -> list[int]:
    application = create_app(make_settings(url))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return [
                (
                    await http.post(path, json={"email": "root@cli.test", "password": password})
                ).status_code
                for path in ("/api/v1/auth/login", "/api/v1/auth/tokens")
            ]


def test_create_admin_with_spaces_around_the_password_signs_in_with_exactly_what_was_given(
    lectern_cli: Any, empty_database: str
) -> None:
    given = " secret pass phrase "
    result = _create_admin(lectern_cli, empty_database, given)
    assert result.exit_code == 0, result.output

    assert asyncio.run(_sign_in_to(empty_database, given)) == [200, 201]
    # The rule is one: spaces around a password are dropped wherever it comes in.
    assert asyncio.run(_sign_in_to(empty_database, given.strip())) == [200, 201]
    assert asyncio.run(_sign_in_to(empty_database, "secret pass  phrase")) == [401, 401]


@pytest.fixture
async def throttled_app(database_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(database_url).model_copy(update={"login_rate_limit": "3/minute"})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_stranger_hammering_an_account_does_not_lock_its_owner_out(
    world: World, throttled_app: FastAPI
) -> None:
    admin = await world.admin()
    wrong = {"email": admin.email, "password": "not the password"}
    right = {"email": admin.email, "password": PASSWORD}
    async with _from(throttled_app, "203.0.113.7") as stranger:
        answers = [(await stranger.post("/api/v1/auth/login", json=wrong)).status_code]
        answers += [(await stranger.post("/api/v1/auth/login", json=wrong)).status_code]
        answers += [(await stranger.post("/api/v1/auth/login", json=wrong)).status_code]
        # The stranger's address has failed too often on this account: not even checked now.
        answers += [(await stranger.post("/api/v1/auth/login", json=right)).status_code]
    assert answers == [401, 401, 401, 429]

    async with _from(throttled_app, "198.51.100.20") as owner:
        signed_in = await owner.post("/api/v1/auth/login", json=right)
        assert signed_in.status_code == 200, signed_in.text
        token = await owner.post("/api/v1/auth/tokens", json=right)
        assert token.status_code == 201
        # A wrong password on a hammered account is told to slow down; the right one still works.
        slow_down = await owner.post("/api/v1/auth/login", json=wrong)
        assert slow_down.status_code == 429
        assert slow_down.headers["content-type"] == "application/problem+json"
        assert (await owner.post("/api/v1/auth/login", json=right)).status_code == 200


class ProxiedServer:
    """uvicorn serving the app with the proxy options `lectern serve` gives it."""

    def __init__(self, settings: Settings) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **proxy_options(settings),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=asyncio.run, args=(self.server.serve(),), daemon=True)

    def __enter__(self) -> "ProxiedServer":
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _login_answers(settings: Settings, forwarded_for: list[str]) -> list[int]:
    with ProxiedServer(settings) as server, httpx.Client(base_url=server.url) as http:
        return [
            http.post(
                "/api/v1/auth/login",
                json={"email": f"nobody{n}@example.test", "password": "whatever it is"},
                headers={"X-Forwarded-For": address},
            ).status_code
            for n, address in enumerate(forwarded_for)
        ]


@pytest.mark.usefixtures("db")
def test_x_forwarded_for_from_an_untrusted_peer_does_not_escape_the_address_limit(
    settings: Settings,
) -> None:
    limited = settings.model_copy(update={"login_rate_limit_per_ip": "3/minute"})
    spoofed = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
    assert _login_answers(limited, spoofed) == [401, 401, 401, 429]


@pytest.mark.usefixtures("db")
def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(settings: Settings) -> None:
    proxied = settings.model_copy(
        update={"login_rate_limit_per_ip": "3/minute", "forwarded_allow_ips": "127.0.0.1"}
    )
    clients = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
    assert _login_answers(proxied, clients) == [401, 401, 401, 401]
    one_client = ["192.0.2.9"] * 4
    assert _login_answers(proxied, one_client) == [401, 401, 401, 429]
