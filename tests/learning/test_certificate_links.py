"""A certificate sends its readers to the verification page at the address people reach Lectern
at: LECTERN_PUBLIC_URL, or where `lectern serve` listens, or the origin of the request."""

import io
import os
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pypdf import PdfReader
from typer.testing import CliRunner

from lectern import cli
from lectern.platform.config import Settings, get_settings
from lectern.platform.public_url import served_url
from tests.factories import World
from tests.learning.test_certificate_fonts import pdf_text

PUBLIC_URL = "https://learn.example.org"


async def _certificate(world: World, client: httpx.AsyncClient) -> dict[str, Any]:
    """A certificate as its learner's API lists it, for a one-lesson course they completed."""
    admin = await world.admin()
    learner = await world.student(admin.institution_slug)
    course = await world.course(
        admin,
        access="open",
        chapters=[
            {"title": "One", "lessons": [{"title": "Read", "kind": "reading", "body": "Hi"}]}
        ],
    )
    r = await client.post(f"/api/v1/courses/{course['id']}/enroll", headers=learner.headers)
    assert r.status_code == 201, r.text
    [lesson] = course["chapters"][0]["lessons"]
    r = await client.post(
        "/api/v1/activity",
        json={"events": [{"type": "lesson.completed", "lesson_id": lesson["id"]}]},
        headers=learner.headers,
    )
    assert r.status_code == 200, r.text
    [issued] = (await client.get("/api/v1/me/certificates", headers=learner.headers)).json()
    certificate: dict[str, Any] = issued
    return certificate


def _link_targets(pdf: bytes) -> list[str]:
    [page] = PdfReader(io.BytesIO(pdf)).pages
    return [
        str(annotation.get_object()["/A"]["/URI"])
        for annotation in page.get("/Annots", [])
        if annotation.get_object().get("/Subtype") == "/Link"
    ]


@pytest.fixture
def public_app(app: FastAPI) -> Iterator[FastAPI]:
    """The app, configured with LECTERN_PUBLIC_URL for this test."""
    # Not monkeypatch.setattr: Starlette's State keeps attributes outside __dict__.
    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"public_url": PUBLIC_URL})
    yield app
    app.state.settings = settings


async def test_the_pdf_links_to_the_verification_page_on_the_public_url(
    public_app: FastAPI, world: World, client: httpx.AsyncClient
) -> None:
    certificate = await _certificate(world, client)
    code = certificate["code"]
    page = f"{PUBLIC_URL}/verify/{code}"

    r = await client.get(f"/api/v1/certificates/{code}.pdf")

    assert r.status_code == 200
    assert f"Verify at {page}" in pdf_text(r.content)
    assert _link_targets(r.content) == [page]


async def test_the_api_gives_the_verification_page_and_the_pdf_on_the_public_url(
    public_app: FastAPI, world: World, client: httpx.AsyncClient
) -> None:
    certificate = await _certificate(world, client)
    code = certificate["code"]
    assert certificate["verify_url"] == f"{PUBLIC_URL}/verify/{code}"
    assert certificate["pdf_url"] == f"{PUBLIC_URL}/api/v1/certificates/{code}.pdf"

    verified = (await client.get(f"/api/v1/certificates/{code}")).json()
    assert verified["verify_url"] == certificate["verify_url"]
    page = await client.get(certificate["verify_url"].removeprefix(PUBLIC_URL))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    pdf = await client.get(certificate["pdf_url"].removeprefix(PUBLIC_URL))
    assert pdf.headers["content-type"] == "application/pdf"


async def test_without_a_public_url_links_follow_the_origin_of_the_request(
    app: FastAPI, world: World, client: httpx.AsyncClient
) -> None:
    assert app.state.settings.public_url is None
    certificate = await _certificate(world, client)
    assert certificate["verify_url"] == f"http://testserver/verify/{certificate['code']}"


def test_served_url_names_the_host_and_port_served_at(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "lectern-box")
    assert served_url("127.0.0.1", 9123) == "http://127.0.0.1:9123"
    assert served_url("learn.example.org", 80) == "http://learn.example.org"
    assert served_url("::1", 9123) == "http://[::1]:9123"
    # Every interface is no address to link to; the machine's name is.
    assert served_url("0.0.0.0", 9123) == "http://lectern-box:9123"  # noqa: S104
    assert served_url("::", 8000) == "http://lectern-box:8000"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, Any]:
    """Runs `lectern serve ARGS` up to the point of serving; returns what it would serve with."""
    served: dict[str, Any] = {}

    def serve(config: uvicorn.Config) -> None:
        served["port"] = config.port
        served["public_url"] = get_settings().public_url
        # What a worker process, which reads its settings afresh, would see.
        served["worker_public_url"] = Settings().public_url

    monkeypatch.setattr(cli.serving, "serve", serve)
    monkeypatch.setattr(cli.migrate, "upgrade", lambda _url: None)
    monkeypatch.setenv("LECTERN_DEMO_ON_FIRST_START", "false")
    result = CliRunner().invoke(cli.app, ["serve", *args])
    assert result.exit_code == 0, result.output
    return served


def test_serve_without_a_public_url_links_to_the_port_it_serves(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    # Empty is unset; monkeypatch puts the environment back as it was after the test.
    monkeypatch.setenv("LECTERN_PUBLIC_URL", "")

    served = _serve(monkeypatch, "--port", "9123")

    assert served == {
        "port": 9123,
        "public_url": "http://127.0.0.1:9123",
        "worker_public_url": "http://127.0.0.1:9123",
    }
    assert os.environ["LECTERN_PUBLIC_URL"] == "http://127.0.0.1:9123"


def test_serve_keeps_a_configured_public_url(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("LECTERN_PUBLIC_URL", f"{PUBLIC_URL}/")

    served = _serve(monkeypatch, "--host", "0.0.0.0", "--port", "9123")  # noqa: S104

    assert served["public_url"] == served["worker_public_url"] == PUBLIC_URL


def test_a_public_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="LECTERN_PUBLIC_URL must start with http"):
        Settings(public_url="learn.example.org")
