"""CPU instructions per approval, counted by valgrind's callgrind: Lectern's server process
against an asyncpg client executing the same SQL.

Rates on a shared two-core machine swing by a third from one minute to the next; instruction
counts do not (about 1% between runs), so this is the figure to compare two versions of the
code by. It counts only the Python side of each: the server process (uvicorn, FastAPI,
authentication, the command, the event pump) for `POST /api/v1/admin/access-requests/{id}/
approve`, and the client process running bench/enrollment.py's RAW_APPROVAL. PostgreSQL's own
work, the same for both, is not counted.

Counting starts after a warm-up and stops after N approvals, through `callgrind_control`.
Under valgrind each process runs about fifty times slower, so N is small.

    .venv/bin/python bench/instructions.py [--approvals N] [--clients C]
"""

import argparse
import asyncio
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import uvloop
from enrollment import ADMIN_TOKEN, Connection, http_rate, raw_approval, seed
from harness import (
    ROOT,
    ScratchDatabase,
    free_port,
    is_healthy,
    scratch_database,
    server_command,
    server_environment,
)

WARMUP = 60


VALGRIND = shutil.which("valgrind") or "valgrind"
CALLGRIND_CONTROL = shutil.which("callgrind_control") or "callgrind_control"


def callgrind(output: Path) -> list[str]:
    # Counting is switched on and off from outside; the interpreter's start-up is not counted.
    return [VALGRIND, "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={output}"]


async def counting(pid: int, *, on: bool) -> None:
    """Switch counting in process `pid` on, or off and write what it counted."""
    for option in ["-i on"] if on else ["-i off", "-d"]:
        control = await asyncio.create_subprocess_exec(
            CALLGRIND_CONTROL,
            *option.split(),
            str(pid),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await control.wait() != 0:
            raise RuntimeError(f"callgrind_control {option} {pid} failed")


def counted(output: Path) -> int:
    """The instructions in every dump callgrind wrote for one process."""
    total = 0
    for path in glob.glob(f"{output}*"):
        for line in Path(path).read_text().splitlines():
            if line.startswith("totals:"):
                total += int(line.split()[1])
    return total


async def server_side(database: ScratchDatabase, ids: list[int], clients: int, out: Path) -> int:
    port = free_port()
    environment = server_environment(database.async_url)
    command = [*callgrind(out), *server_command(port)]
    server = await asyncio.create_subprocess_exec(
        *command, env=environment, cwd=ROOT, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        while not is_healthy(port):
            if server.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError("the server under valgrind did not start")
            await asyncio.sleep(0.5)
        connections = [await Connection.open(port) for _ in range(clients)]
        await http_rate(connections, ids[:WARMUP])
        await counting(server.pid, on=True)
        await http_rate(connections, ids[WARMUP:])
        await counting(server.pid, on=False)
        for connection in connections:
            connection.close()
    finally:
        server.terminate()
        await server.wait()
    return counted(out)


async def client_side(dsn: str, ids: list[int]) -> None:
    """Run under callgrind as its own process: the baseline's approvals, counted."""
    connection = await asyncpg.connect(dsn)
    token_hash = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()
    for request_id in ids[:WARMUP]:
        await raw_approval(connection, token_hash, request_id)
    await counting(os.getpid(), on=True)
    for request_id in ids[WARMUP:]:
        await raw_approval(connection, token_hash, request_id)
    await counting(os.getpid(), on=False)
    await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approvals", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--client-side", nargs=2, metavar=("DSN", "IDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_side:
        dsn, ids = args.client_side
        # On the server's event loop, so that both sides pay the same for theirs.
        uvloop.run(client_side(dsn, [int(i) for i in ids.split(",")]))
        return
    n = args.approvals
    with scratch_database("instructions") as database, tempfile.TemporaryDirectory() as scratch:
        http_ids, raw_ids = seed(database.sync_url, WARMUP + n)
        server = asyncio.run(server_side(database, http_ids, args.clients, Path(scratch, "server")))
        client_out = Path(scratch, "client")
        subprocess.run(  # noqa: S603 - this very script, under valgrind
            [*callgrind(client_out), sys.executable, __file__, "--client-side", database.dsn,
             ",".join(map(str, raw_ids))],
            check=True, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = counted(client_out)
    print(f"instructions per approval, {n} approvals counted ({args.clients} HTTP clients)")
    print(f"Lectern server process   {server / n / 1e6:7.2f} M")
    print(f"asyncpg client, same SQL {client / n / 1e6:7.2f} M")
    print(f"ratio (client / server)  {client / server:7.2f}")


if __name__ == "__main__":
    main()
