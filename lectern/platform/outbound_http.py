"""HTTP to addresses that institution admins type in (webhook URLs, learning record stores, LTI
platforms, OpenID providers): only to public unicast addresses, so that an admin cannot make
the server reach the operator's internal network and read the answer (SSRF).

Every request's host is resolved before connecting, every address it resolves to is checked,
and the connection goes to the checked address (TLS still verifies the name), so a name that
resolves elsewhere a moment later is not followed. On-premises deployments whose services live
on the internal network allow private addresses with LECTERN_OUTBOUND_PRIVATE_NETWORKS.
"""

import asyncio
import ipaddress
import socket
from typing import Any

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_NAMES = frozenset({"localhost"})
# NAT64 gateways reach the IPv4 address in the last 32 bits (RFC 6052).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SWITCH = "LECTERN_OUTBOUND_PRIVATE_NETWORKS"


class RefusedDestination(httpx.ConnectError):
    """A destination the server will not connect to; nothing was sent to it."""


def failure_message(error: Exception) -> str:
    """What a failed request says to an admin: a refusal in its own words, another error with
    its kind."""
    return (
        str(error) if isinstance(error, RefusedDestination) else f"{type(error).__name__}: {error}"
    )


def address_problem(address: Address, *, private_networks: bool, loopback: bool) -> str | None:
    """Why the server will not connect to `address`, or None if it may.

    `loopback` allows this machine's addresses (a receiver beside the server, in tests and
    development); `private_networks` allows every unicast address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_unspecified:
        return "is the unspecified address"
    if address.is_multicast:
        return "is a multicast address"
    if address.is_loopback:
        return None if loopback or private_networks else "is a loopback address of this machine"
    if address.is_global or private_networks:
        return None
    if address.is_link_local:
        return "is a link-local address"
    if address.is_private:
        return "is on a private network"
    return "is reserved, not a public address"


def host_problem(host: str, *, private_networks: bool, loopback: bool) -> str | None:
    """Why `host` is refused as it is written, without resolving it: an IP address or
    localhost that `address_problem` refuses. None for a name that only DNS can judge."""
    name = host.strip("[]").rstrip(".").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        address: Address = ipaddress.IPv4Address("127.0.0.1")
    else:
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return None
    problem = address_problem(address, private_networks=private_networks, loopback=loopback)
    return None if problem is None else f"{host} {problem}{_unless(private_networks)}"


def _unless(private_networks: bool) -> str:
    return "" if private_networks else f" (only with {_SWITCH})"


async def resolve(host: str, port: int) -> list[Address]:
    """The addresses `host` resolves to, in the resolver's order (off the event loop)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in addresses:
            addresses.append(address)
    return addresses


async def checked_address(
    request: httpx.Request, *, private_networks: bool, loopback_http: bool
) -> Address:
    """The address to connect to for `request`: the first its host resolves to, once every
    one of them is allowed. Refused: RefusedDestination."""
    url = request.url
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    # Plain http reaches only this machine (where the settings allow it); https never does.
    loopback = loopback_http and url.scheme == "http"
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise httpx.ConnectError(
            f"{host} could not be resolved: {error}", request=request
        ) from None
    if not addresses:
        raise httpx.ConnectError(f"{host} resolves to no address", request=request)
    for address in addresses:
        problem = address_problem(address, private_networks=private_networks, loopback=loopback)
        if problem is not None:
            said = host if host == str(address) else f"{host} resolves to {address}, which"
            raise RefusedDestination(
                f"Not sent: {said} {problem}{_unless(private_networks)}.", request=request
            )
    return addresses[0]


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, behind the check of every request's destination (redirects that
    a client follows included: each is a request of its own)."""

    def __init__(
        self,
        *,
        private_networks: bool,
        loopback_http: bool,
        inner: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        """`options` make httpx's transport; `inner` replaces it (a stand-in, in tests)."""
        self._inner = inner or httpx.AsyncHTTPTransport(**options)
        self._private_networks = private_networks
        self._loopback_http = loopback_http

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = await checked_address(
            request, private_networks=self._private_networks, loopback_http=self._loopback_http
        )
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            # TLS verifies the certificate for the name, while the socket goes to the address.
            extensions.setdefault("sni_hostname", request.url.host)
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=str(address)),
            headers=request.headers,
            stream=request.stream,
            extensions=extensions,
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


def guarded_client(
    *, private_networks: bool, loopback_http: bool, verify: Any = True, **options: Any
) -> httpx.AsyncClient:
    """An httpx client whose every request goes only where `checked_address` allows.

    It ignores HTTP(S)_PROXY from the environment: a proxy would connect in its place, unchecked.
    """
    transport = GuardedTransport(
        private_networks=private_networks, loopback_http=loopback_http, verify=verify
    )
    return httpx.AsyncClient(transport=transport, trust_env=False, **options)
