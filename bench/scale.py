"""Admin reads and the audit at 10k, 100k and 1M enrollments, and how they grow; and what the
tallies cost approvals.

For each size: a PostgreSQL database of its own, filled by `lectern generate --enrollments N`
(timed) and vacuumed and analysed as autovacuum would leave it, served by one `lectern serve`
process. With --reuse the database is named for its size (lectern_scale_10k, …_100k, …_1m) and
kept: an existing one is migrated and measured again instead of generated. Each admin read is
measured from one client (p50) and from CLIENTS concurrent clients (p50 and p95), as an admin of
the first institution; the audit is timed as `lectern audit` runs it (in this process, without
the interpreter's start). At the end the growth of each figure from the smallest size to the
largest is printed. Then approvals per second with the tally triggers on and off, alternating
in one run (bench/tally_cost.py), and bench/enrollment.py (approvals against raw SQL).

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--institutions K] [--reuse]
                                    [--clients C] [--requests R] [--json FILE]
                                    [--no-tally-cost] [--no-enrollment]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from enrollment import Connection
from harness import DEFAULT_URL, ROOT, ScratchDatabase, lectern_server, scratch_database
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from tally_cost import TallyCost, measure_tally_cost
from tally_cost import report as tally_report

from lectern.audit.service import audit_in_parallel
from lectern.generate.service import GENERATED_PASSWORD
from lectern.models import Base
from lectern.platform.config import Settings
from lectern.platform.db import Database
from lectern.platform.migrate import upgrade

P95_TARGET_MS = 50.0  # each admin read at 1M, 8 clients
GROWTH_TARGET = 2.0  # each admin read at 1M against its 10k figure
AUDIT_TARGET_S = 10.0
STUDENTS_PAGE = 100
LATER_PAGE = 20  # the students page reached by following `next` this many times
WARM_ROUNDS = 3  # untimed concurrent requests per client before each read is measured


@dataclass
class Read:
    name: str
    path: str
    one_p50_ms: float = 0.0
    many_p50_ms: float = 0.0
    many_p95_ms: float = 0.0
    status: int = 0


@dataclass
class SizeResult:
    enrollments: int
    generate_s: float | None  # None: an existing database, measured again
    audit_s: float
    audit_ok: bool
    reads: list[Read] = field(default_factory=list)


def _ms(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def generate(database_url: str, enrollments: int, institutions: int) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our interpreter and our command
        [sys.executable, "-m", "lectern.cli", "generate", "--enrollments", str(enrollments),
         "--institutions", str(institutions)],
        env=os.environ | {"LECTERN_DATABASE_URL": database_url},
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


async def time_audit(database_url: str) -> tuple[float, bool]:
    database = Database(Settings(database_url=database_url, demo_on_first_start=False))
    try:
        started = time.perf_counter()
        report = await audit_in_parallel(database)
        return time.perf_counter() - started, report.ok
    finally:
        await database.dispose()


def vacuum_analyze(sync_url: str) -> None:
    """The state autovacuum leaves a loaded database in (statistics and visibility maps), at
    once, so that no read is measured beside it."""
    engine = create_engine(sync_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
        # What the vacuum dirtied is written now, not by the checkpointer during the first read.
        connection.execute(text("CHECKPOINT"))
    engine.dispose()


def _short(enrollments: int) -> str:
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if enrollments % size == 0:
            return f"{enrollments // size}{unit}"
    return str(enrollments)


@contextmanager
def kept_database(enrollments: int) -> Iterator[tuple[ScratchDatabase, bool]]:
    """The database named for its size (lectern_scale_1m), created if missing and kept; and
    whether it already held data."""
    base = make_url(os.environ.get("LECTERN_BENCH_POSTGRES_URL", DEFAULT_URL))
    name = f"lectern_scale_{_short(enrollments)}"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name)
    database = ScratchDatabase(
        async_url=url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
        sync_url=url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        dsn=url.set(drivername="postgresql").render_as_string(hide_password=False),
    )
    upgrade(database.async_url)
    engine = create_engine(database.sync_url)
    # A kept database stamped at a revision whose migration has since grown lacks its tables.
    missing = [t for t in Base.metadata.sorted_tables if not inspect(engine).has_table(t.name)]
    if missing:
        Base.metadata.create_all(engine, tables=missing)
        print("created the missing tables " + ", ".join(t.name for t in missing), flush=True)
    with engine.connect() as connection:
        filled = bool(connection.scalar(text("SELECT count(*) FROM institutions")))
    engine.dispose()
    yield database, filled


async def _later_page(client: httpx.AsyncClient) -> str:
    """The path of a students page LATER_PAGE pages in, by the `next` links (or the offset)."""
    path = f"/api/v1/admin/students?limit={STUDENTS_PAGE}"
    for _ in range(LATER_PAGE):
        response = await client.get(path)
        following = response.links.get("next", {}).get("url")
        if not following:
            return (
                f"/api/v1/admin/students?limit={STUDENTS_PAGE}&offset={STUDENTS_PAGE * LATER_PAGE}"
            )
        path = str(httpx.URL(following).copy_with(scheme=None, host=None, port=None))
    return path


async def admin_reads(client: httpx.AsyncClient) -> list[Read]:
    courses = (await client.get("/api/v1/courses")).json()
    course = next(c for c in courses if c["status"] == "published")
    first = (await client.get(f"/api/v1/admin/students?limit={STUDENTS_PAGE}")).json()
    return [
        Read("analytics", "/api/v1/admin/analytics"),
        Read("per-course analytics", f"/api/v1/admin/courses/{course['id']}/analytics"),
        Read("students, first page", f"/api/v1/admin/students?limit={STUDENTS_PAGE}"),
        Read(f"students, page {LATER_PAGE + 1}", await _later_page(client)),
        Read("a student's page", f"/api/v1/admin/students/{first[len(first) // 2]['id']}"),
        Read("request queue", "/api/v1/admin/access-requests?status=pending"),
        Read("payments", "/api/v1/admin/payments"),
        Read("catalog", "/api/v1/courses"),
    ]


async def _timed(connection: Connection, read: Read, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    read.status, _ = await connection.request("GET", read.path, headers)
    return time.perf_counter() - started


async def measure_read(
    connections: list[Connection], read: Read, requests: int, headers: dict[str, str]
) -> None:
    one = connections[0]
    alone = [await _timed(one, read, headers) for _ in range(requests)]

    async def client_loop(connection: Connection) -> list[float]:
        return [await _timed(connection, read, headers) for _ in range(requests)]

    together = [t for ts in await asyncio.gather(*map(client_loop, connections)) for t in ts]
    read.one_p50_ms = _ms(alone, 0.5)
    read.many_p50_ms = _ms(together, 0.5)
    read.many_p95_ms = _ms(together, 0.95)


async def warm(connections: list[Connection], reads: list[Read], headers: dict[str, str]) -> None:
    """Every read a few times from every client at once, untimed, as on a server that has been
    running: the pool holds the connections the concurrent rounds use, each has prepared the
    reads' statements, and the first seconds after the vacuum are over (the first read measured
    without this saw its p95 at two to three times the later ones', whichever read it was)."""
    for read in reads:
        for _ in range(WARM_ROUNDS):
            await asyncio.gather(*(c.request("GET", read.path, headers) for c in connections))


async def measure_reads(args: argparse.Namespace, port: int) -> list[Read]:
    """Each read timed through minimal keep-alive clients (bench/enrollment.py's Connection):
    the clients share the machine's two cores with the server and PostgreSQL, and httpx's own
    CPU per request would weigh on the latencies it measures."""
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        signed_in = await client.post(
            "/api/v1/auth/tokens",
            json={"email": "admin@scale-academy-1.test", "password": GENERATED_PASSWORD},
        )
        headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        client.headers.update(headers)
        reads = await admin_reads(client)
    connections = [await Connection.open(port) for _ in range(args.clients)]
    try:
        await warm(connections, reads, headers)
        for read in reads:
            await measure_read(connections, read, args.requests, headers)
            print(
                f"  {read.name:24} one p50 {read.one_p50_ms:8.1f} ms   "
                f"{args.clients} clients p50 {read.many_p50_ms:8.1f} ms  "
                f"p95 {read.many_p95_ms:8.1f} ms   (HTTP {read.status})",
                flush=True,
            )
        return reads
    finally:
        for connection in connections:
            connection.close()


def measure_size(args: argparse.Namespace, enrollments: int) -> SizeResult:
    print(f"\n== {enrollments:,} enrollments ==", flush=True)
    with (
        kept_database(enrollments)
        if args.reuse
        else _fresh(scratch_database(f"scale{enrollments}"))
    ) as (database, filled):
        generate_s = None
        if filled:
            print(f"measuring the existing {database.dsn.rsplit('/', 1)[-1]}", flush=True)
        else:
            generate_s = generate(database.async_url, enrollments, args.institutions)
            print(f"generated in {generate_s:.1f} s", flush=True)
        vacuum_analyze(database.sync_url)
        audit_s, audit_ok = asyncio.run(time_audit(database.async_url))
        print(
            f"lectern audit: {audit_s:.2f} s, {'clean' if audit_ok else 'VIOLATIONS'}", flush=True
        )
        result = SizeResult(enrollments, generate_s, audit_s, audit_ok)
        with lectern_server(database.async_url) as server:
            result.reads = asyncio.run(measure_reads(args, server.port))
        return result


@contextmanager
def _fresh(
    scratch: AbstractContextManager[ScratchDatabase],
) -> Iterator[tuple[ScratchDatabase, bool]]:
    with scratch as database:
        yield database, False


def print_growth(results: list[SizeResult]) -> None:
    small, large = results[0], results[-1]
    print(f"\ngrowth from {small.enrollments:,} to {large.enrollments:,} enrollments:")
    for before, after in zip(small.reads, large.reads, strict=True):
        ratio = after.many_p95_ms / before.many_p95_ms if before.many_p95_ms else float("nan")
        verdict = "ok" if after.many_p95_ms <= P95_TARGET_MS and ratio <= GROWTH_TARGET else "MISS"
        print(
            f"  {after.name:24} p95 {before.many_p95_ms:7.1f} -> {after.many_p95_ms:8.1f} ms "
            f"x{ratio:6.2f}  (target <= {P95_TARGET_MS:.0f} ms, <= x{GROWTH_TARGET:.0f}) {verdict}"
        )
    audit_ratio = large.audit_s / small.audit_s if small.audit_s else float("nan")
    print(f"  {'lectern audit':24} {small.audit_s:7.2f} -> {large.audit_s:8.2f} s  "
          f"x{audit_ratio:6.2f}  (target <= {AUDIT_TARGET_S:.0f} s)")  # fmt: skip


def run_enrollment_bench() -> str:
    """bench/enrollment.py's verdict with the aggregates in place (its last lines)."""
    done = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, str(ROOT / "bench" / "enrollment.py"), "--requests", "2000",
         "--rounds", "3"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = (done.stdout or done.stderr).strip().splitlines()
    return "\n".join(lines[-3:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--institutions", type=int, default=4)
    parser.add_argument(
        "--reuse", action="store_true", help="keep each size's database and measure it again"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20, help="per client and read")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--no-tally-cost", action="store_true", help="skip approvals with and without tallies"
    )
    parser.add_argument("--no-enrollment", action="store_true", help="skip bench/enrollment.py")
    args = parser.parse_args()
    results = [measure_size(args, int(size)) for size in args.sizes.split(",")]
    if len(results) > 1:
        print_growth(results)
    tally_cost: TallyCost | None = None
    if not args.no_tally_cost:
        print("\napprovals with the tallies against without them, alternating rounds:", flush=True)
        tally_cost = measure_tally_cost(requests=12000, clients=16, rounds=12)
        print(tally_report(tally_cost), flush=True)
    enrollment = "" if args.no_enrollment else run_enrollment_bench()
    if enrollment:
        print("\nbench/enrollment.py with the aggregates in place:\n" + enrollment)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "sizes": [asdict(r) for r in results],
                    "tally_cost": asdict(tally_cost) if tally_cost else None,
                    "enrollment": enrollment,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
