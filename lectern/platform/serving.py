"""Serving over several processes, each with a listening socket of its own.

uvicorn's `--workers` binds one socket that every worker accepts from. Whichever worker wakes
first takes every connection waiting, so a burst of keep-alive connections (a proxy's pool, live
pages reconnecting after a deploy, a load test) can all land in one process while the others
idle for as long as those connections live. Here each worker binds its own socket into a
SO_REUSEPORT group, and Linux spreads new connections over the group's sockets by their
addresses. The sockets are created as TCP explicitly: asyncio turns Nagle's algorithm off only
on connections accepted from such a socket, and with it on, every keep-alive request after the
first waits for a delayed ACK.

The parent only supervises: it starts the workers, restarts one that dies, and stops them all on
SIGINT or SIGTERM. Where SO_REUSEPORT does not balance (not Linux), uvicorn's own supervisor runs.
"""

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from lectern.platform.config import Settings

log = logging.getLogger("uvicorn.error")
RESTART_PAUSE_SECONDS = 1.0


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for X-Forwarded-For: believed only from LECTERN_FORWARDED_ALLOW_IPS.

    uvicorn by itself trusts 127.0.0.1, so anyone connecting from the machine could name any
    client address (and so escape the per-address login limit); with none configured, none is.
    """
    if not settings.forwarded_allow_ips.strip():
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def balances_connections() -> bool:
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def serve(config: uvicorn.Config) -> None:
    """Serve with `config.workers` processes (1: this one)."""
    if config.workers == 1:
        uvicorn.Server(config).run()
        return
    if not balances_connections():
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
        return
    # Fail here, clearly, if the port is taken; joining someone else's group would be silent.
    listening_socket(config.host, config.port, config.backlog, reuse_port=False).close()
    Supervisor(config).run()


def _worker(config: uvicorn.Config) -> None:
    config.configure_logging()
    sock = listening_socket(config.host, config.port, config.backlog, reuse_port=True)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    def __init__(self, config: uvicorn.Config) -> None:
        self.config = config
        self.processes: list[BaseProcess] = []
        self.stopping = threading.Event()
        self.exit_code = 0

    def run(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        self.processes = [self._start() for _ in range(self.config.workers)]
        log.info("Started %d workers, each with its own socket", self.config.workers)
        while not self.stopping.wait(RESTART_PAUSE_SECONDS):
            self._restart_the_dead()
        self._stop_all()
        if self.exit_code:
            sys.exit(self.exit_code)

    def _start(self) -> BaseProcess:
        process = multiprocessing.get_context("spawn").Process(target=_worker, args=(self.config,))
        process.start()
        return process

    def _restart_the_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:
                log.error("Worker %s could not start; stopping", process.pid)
                self.exit_code = STARTUP_FAILURE
                self.stopping.set()
                return
            log.warning("Worker %s exited with %s; starting another", process.pid, process.exitcode)
            self.processes[index] = self._start()

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        grace = self.config.timeout_graceful_shutdown or 30
        for process in self.processes:
            process.join(grace)
            if process.is_alive():
                process.kill()
                process.join()
