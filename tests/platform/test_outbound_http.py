"""Outbound HTTP to admin-typed URLs reaches public addresses only: refused at save where the
host is an address, refused at send where a name resolves to a private one, and nothing sent.
Names resolve through a stand-in resolver; the one server is a counter on 127.0.0.1."""

import ipaddress
import ssl
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import TypeAdapter, ValidationError

from lectern.events.rules import LoggedEvent
from lectern.lti.keys import KeySetUnavailable, fetch_key_set
from lectern.lti.schemas import WebUrl
from lectern.oidc.discovery import issuer_url_problem, provider_metadata
from lectern.oidc.errors import ProviderUnreachable
from lectern.outbound.kinds import SendFailed
from lectern.platform import outbound_http
from lectern.platform.config import Settings, get_settings
from lectern.platform.outbound_http import (
    RefusedDestination,
    address_problem,
    guarded_client,
    host_problem,
)
from lectern.webhooks.sending import Endpoint, send
from lectern.webhooks.service import try_connection
from lectern.xapi.delivery import Lrs, check_connection, post_statements
from tests.factories import World

REFUSED = [
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "127.0.0.1",
    "240.0.0.1",
    "::1",
    "fd00::1",
    "fe80::1",
    "::ffff:10.0.0.5",
    "::ffff:169.254.169.254",
    "::ffff:127.0.0.1",
    "64:ff9b::a00:5",
]
NEVER = ["0.0.0.0", "::", "224.0.0.1", "ff02::1"]  # noqa: S104 - an address refused, not bound
PUBLIC = ["8.8.8.8", "2606:4700::1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED + NEVER)
def test_private_link_local_and_mapped_addresses_are_refused(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), private_networks=False, loopback=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_unicast_addresses_are_taken(address: str) -> None:
    found = address_problem(ipaddress.ip_address(address), private_networks=False, loopback=False)
    assert found is None


@pytest.mark.parametrize("address", REFUSED)
def test_the_private_networks_setting_lets_unicast_addresses_through(address: str) -> None:
    found = address_problem(ipaddress.ip_address(address), private_networks=True, loopback=False)
    assert found is None


@pytest.mark.parametrize("address", NEVER)
def test_unspecified_and_multicast_addresses_are_refused_even_on_private_networks(
    address: str,
) -> None:
    assert address_problem(ipaddress.ip_address(address), private_networks=True, loopback=True)


def test_loopback_is_taken_only_when_allowed() -> None:
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        found = address_problem(
            ipaddress.ip_address(address), private_networks=False, loopback=True
        )
        assert found is None
    assert address_problem(ipaddress.ip_address("10.0.0.5"), private_networks=False, loopback=True)


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("10.0.0.5", True),
        ("[fd00::1]", True),
        ("169.254.169.254", True),
        ("lrs.example.edu", False),
        ("8.8.8.8", False),
    ],
)
def test_hosts_written_as_addresses_are_judged_without_dns(host: str, refused: bool) -> None:
    problem = host_problem(host, private_networks=False, loopback=False)
    assert (problem is not None) == refused
    if refused:
        assert "LECTERN_OUTBOUND_PRIVATE_NETWORKS" in problem


class Counter:
    """An HTTP server on 127.0.0.1 that answers 200 with a JSON body and counts requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                counter.requests.append((self.path, self.headers.get("host")))
                body = b'{"keys": [], "version": ["1.0.3"]}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture
def counter() -> Iterator[Counter]:
    served = Counter()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture
def resolves_to(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make every name resolve to the given addresses (an address to itself); the real
    resolver is never asked."""

    def point(*addresses: str) -> None:
        async def resolve(host: str, _port: int) -> list[Any]:
            try:
                return [ipaddress.ip_address(host)]
            except ValueError:
                return [ipaddress.ip_address(address) for address in addresses]

        monkeypatch.setattr(outbound_http, "resolve", resolve)

    return point


@pytest.fixture
def private_networks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """LECTERN_OUTBOUND_PRIVATE_NETWORKS=true for the senders that read the process's settings."""
    monkeypatch.setenv("LECTERN_OUTBOUND_PRIVATE_NETWORKS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("LECTERN_OUTBOUND_PRIVATE_NETWORKS")
    get_settings.cache_clear()


# The guard itself


async def test_a_name_resolving_privately_is_refused_and_nothing_is_sent(
    counter: Counter, resolves_to: Any
) -> None:
    resolves_to("127.0.0.1")
    async with guarded_client(private_networks=False, loopback_http=False) as http:
        with pytest.raises(RefusedDestination, match=r"resolves to 127.0.0.1"):
            await http.get(f"http://hooks.example.test:{counter.port}/x")
    assert counter.requests == []


async def test_one_private_address_among_public_ones_refuses_the_name(resolves_to: Any) -> None:
    resolves_to("8.8.8.8", "10.0.0.5")
    async with guarded_client(private_networks=False, loopback_http=False) as http:
        with pytest.raises(RefusedDestination, match=r"10.0.0.5"):
            await http.get("https://hooks.example.test/x")


async def test_an_allowed_name_is_reached_at_the_address_checked_with_its_own_host_header(
    counter: Counter, resolves_to: Any
) -> None:
    resolves_to("127.0.0.1")
    async with guarded_client(private_networks=True, loopback_http=False) as http:
        response = await http.get(f"http://hooks.example.test:{counter.port}/x")
    assert response.status_code == 200
    assert str(response.request.url) == f"http://hooks.example.test:{counter.port}/x"
    assert counter.requests == [("/x", f"hooks.example.test:{counter.port}")]


async def test_https_to_loopback_is_refused_even_where_plain_http_to_it_is_allowed() -> None:
    async with guarded_client(private_networks=False, loopback_http=True) as http:
        with pytest.raises(RefusedDestination, match="loopback"):
            await http.get("https://127.0.0.1:1/x")


async def test_a_followed_redirect_to_a_private_address_is_refused(resolves_to: Any) -> None:
    resolves_to("8.8.8.8")
    asked: list[str] = []

    async def public_host(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://10.0.0.5/x"})

    transport = outbound_http.GuardedTransport(
        private_networks=False, loopback_http=False, inner=httpx.MockTransport(public_host)
    )
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as http:
        with pytest.raises(RefusedDestination, match=r"10.0.0.5 is on a private network"):
            await http.get("https://hooks.example.test/x")
    assert asked == ["https://8.8.8.8/x"]


# Webhooks


def _endpoint(url: str) -> Endpoint:
    return Endpoint(1, 1, url, "", frozenset({"course.created"}), ("whsec_" + "A" * 43,))


def _event() -> LoggedEvent:
    return LoggedEvent(1, "course.created", 1, None, "admins", {}, datetime.now(UTC))


@pytest.mark.parametrize(
    "url", ["https://10.0.0.5/hooks", "https://[fd00::1]/h", "https://localhost/h"]
)
async def test_a_webhook_to_a_private_address_is_refused_when_saved(world: World, url: str) -> None:
    admin = await world.admin(f"Hooks {uuid.uuid4().hex[:6]}")
    r = await world.client.post(
        "/api/v1/admin/webhooks",
        json={"url": url, "event_types": ["course.created"]},
        headers=admin.headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "url"]
    assert "public address" in r.json()["detail"]


async def test_a_webhook_to_a_name_resolving_privately_fails_and_sends_nothing(
    counter: Counter, resolves_to: Any, settings: Settings
) -> None:
    resolves_to("::ffff:10.0.0.5")
    url = f"http://hooks.example.test:{counter.port}/hooks"
    with pytest.raises(
        SendFailed,
        match=r"^Not sent: hooks.example.test resolves to ::ffff:a00:5, which is on a private",
    ):
        await send(_endpoint(url), [_event()])
    strict = settings.model_copy(update={"webhooks_allow_loopback_http": False})
    tried = await try_connection(_endpoint(url), strict)
    assert not tried.ok
    assert tried.error is not None
    assert tried.error.startswith("Not sent: hooks.example.test resolves to")
    assert counter.requests == []


async def test_a_webhook_connection_test_reaches_a_private_address_with_the_setting(
    counter: Counter, resolves_to: Any, settings: Settings
) -> None:
    resolves_to("127.0.0.1")
    allowed = settings.model_copy(
        update={"webhooks_allow_loopback_http": False, "outbound_private_networks": True}
    )
    tried = await try_connection(_endpoint(f"http://hooks.example.test:{counter.port}/h"), allowed)
    assert tried.ok, tried.error
    assert len(counter.requests) == 1


async def test_a_webhook_reaches_a_name_resolving_privately_with_the_setting(
    counter: Counter, resolves_to: Any, private_networks: None
) -> None:
    resolves_to("127.0.0.1")
    accepted = await send(_endpoint(f"http://hooks.example.test:{counter.port}/h"), [_event()])
    assert accepted.through == 1
    assert len(counter.requests) == 1


# xAPI


@pytest.mark.parametrize("endpoint", ["https://10.0.0.5/xAPI", "https://[fe80::1]/xAPI"])
async def test_an_lrs_at_a_private_address_is_refused_when_saved(
    world: World, endpoint: str
) -> None:
    admin = await world.admin(f"Records {uuid.uuid4().hex[:6]}")
    body = {"name": "LRS", "endpoint": endpoint, "key": "k", "secret": "s"}
    r = await world.client.post("/api/v1/admin/xapi/destinations", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "endpoint"]


def _lrs(endpoint: str) -> Lrs:
    return Lrs(1, 1, "LRS", endpoint, "key", "secret", uuid.uuid4(), "https://lectern.test")


async def test_statements_to_a_name_resolving_privately_are_not_sent(
    counter: Counter, resolves_to: Any
) -> None:
    resolves_to("169.254.169.254")
    with pytest.raises(RefusedDestination, match="link-local"):
        await post_statements(_lrs(f"http://lrs.example.test:{counter.port}/xAPI"), [])
    check = await check_connection(
        f"https://lrs.example.test:{counter.port}/xAPI",
        "key",
        "secret",
        5.0,
        private_networks=False,
        loopback_http=True,
    )
    assert not check.ok
    assert check.detail.startswith("Not sent: lrs.example.test resolves to 169.254.169.254")
    assert counter.requests == []


async def test_an_lrs_connection_test_reaches_a_private_address_with_the_setting(
    counter: Counter, resolves_to: Any
) -> None:
    resolves_to("127.0.0.1")
    check = await check_connection(
        f"http://lrs.example.test:{counter.port}/xAPI",
        "key",
        "secret",
        5.0,
        private_networks=True,
        loopback_http=False,
    )
    assert check.statements_status == 200
    assert len(counter.requests) == 2


# LTI


@pytest.mark.parametrize("url", ["https://10.0.0.5/jwks", "https://[::ffff:a00:5]/jwks"])
def test_an_lti_platform_url_at_a_private_address_is_refused_when_saved(url: str) -> None:
    with pytest.raises(ValidationError, match="public address"):
        TypeAdapter(WebUrl).validate_python(url)


async def test_an_lti_key_set_at_a_name_resolving_privately_is_not_fetched(
    resolves_to: Any,
) -> None:
    resolves_to("10.1.2.3")
    with pytest.raises(KeySetUnavailable, match=r"Not sent: platform.example.test resolves to"):
        await fetch_key_set("https://platform.example.test/jwks")


async def test_an_lti_key_set_on_the_private_network_is_fetched_with_the_setting(
    counter: Counter, resolves_to: Any, private_networks: None
) -> None:
    resolves_to("127.0.0.1")
    TypeAdapter(WebUrl).validate_python("https://10.0.0.5/jwks")
    with pytest.raises(KeySetUnavailable, match="not a JWK set"):  # reached: it has no keys
        await fetch_key_set(f"http://platform.example.test:{counter.port}/jwks")
    assert counter.requests == [("/jwks", f"platform.example.test:{counter.port}")]


# OpenID Connect


@pytest.mark.parametrize("issuer", ["https://192.168.0.9", "https://localhost/realms/x"])
def test_an_issuer_at_a_private_address_is_refused_when_saved(issuer: str) -> None:
    assert "public address" in (issuer_url_problem(issuer) or "")


async def test_an_issuer_resolving_privately_is_not_asked(resolves_to: Any) -> None:
    resolves_to("fd12:3456::1")
    with pytest.raises(ProviderUnreachable, match=r"Not sent: idp.example.test resolves to"):
        await provider_metadata("https://idp.example.test", fresh=True)


def test_an_issuer_on_the_private_network_is_taken_with_the_setting(
    private_networks: None,
) -> None:
    assert issuer_url_problem("https://192.168.0.9") is None


# TLS to the pinned address


def _certificate(directory: Any, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


async def test_https_to_the_checked_address_still_verifies_the_certificate_for_the_name(
    counter: Counter, resolves_to: Any, tmp_path: Any
) -> None:
    cert, key = _certificate(tmp_path, "hooks.example.test")
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    counter.server.socket = served.wrap_socket(counter.server.socket, server_side=True)
    trusting = ssl.create_default_context(cafile=cert)
    resolves_to("127.0.0.1")
    async with guarded_client(private_networks=True, loopback_http=False, verify=trusting) as http:
        response = await http.get(f"https://hooks.example.test:{counter.port}/x")
        assert response.status_code == 200
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await http.get(f"https://other.example.test:{counter.port}/x")
    assert counter.requests == [("/x", f"hooks.example.test:{counter.port}")]
