"""The address people reach Lectern at, for links that leave the page: certificates, checkouts.

`LECTERN_PUBLIC_URL` when set. Otherwise `lectern serve` derives it from where it listens
(`served_url`) and hands it to its workers, and an app served some other way links to the
origin each request came to.
"""

import os
import socket

from fastapi import Request

from lectern.platform.config import Settings, get_settings

# Addresses that mean "every interface": no one can open a link to them.
_EVERY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104


def served_url(host: str, port: int) -> str:
    """The URL of a server listening on `host` and `port`.

    Listening on every interface, it is the machine's name: the address other machines most
    likely know it by (set LECTERN_PUBLIC_URL when they know it otherwise).
    """
    if host in _EVERY_INTERFACE:
        host = socket.gethostname() or "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}" if port == 80 else f"http://{host}:{port}"


def public_url(request: Request) -> str:
    """The origin links given in answer to `request` start with, without a trailing slash."""
    settings: Settings = request.app.state.settings
    return settings.public_url or str(request.base_url).rstrip("/")


def settings_served_at(host: str, port: int) -> Settings:
    """The settings of `lectern serve --host --port`, with the public URL resolved.

    Without LECTERN_PUBLIC_URL it is where the server listens, put into the environment so that
    worker processes, which read their settings afresh, link there too.
    """
    settings = get_settings()
    if settings.public_url is None:
        os.environ["LECTERN_PUBLIC_URL"] = served_url(host, port)
        get_settings.cache_clear()
        settings = get_settings()
    return settings
