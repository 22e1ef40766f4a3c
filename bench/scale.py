"""Admin reads and the audit at 10k, 100k and 1M enrollments, and how they grow.

For each size: a PostgreSQL database of its own, filled by `lectern generate --enrollments N`
(timed), served by one `lectern serve` process. Each admin read is measured from one client
(p50) and from CLIENTS concurrent clients (p50 and p95), as an admin of the first institution;
the audit is timed as `lectern audit` runs it (in this process, without the interpreter's
start). At the end the growth of each figure from the smallest size to the largest is printed,
and bench/enrollment.py runs (approvals per second with the aggregates in place).

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--institutions K]
                                    [--clients C] [--requests R] [--json FILE] [--no-enrollment]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from harness import ROOT, lectern_server, scratch_database

from lectern.audit.service import run_audit
from lectern.generate.service import GENERATED_PASSWORD
from lectern.platform.config import Settings
from lectern.platform.db import Database

P95_TARGET_MS = 50.0  # each admin read at 1M, 8 clients
GROWTH_TARGET = 2.0  # each admin read at 1M against its 10k figure
AUDIT_TARGET_S = 10.0
STUDENTS_PAGE = 100
LATER_PAGE = 20  # the students page reached by following `next` this many times


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
    generate_s: float
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
        async with database.session() as session:
            report = await run_audit(session)
        return time.perf_counter() - started, report.ok
    finally:
        await database.dispose()


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


async def _timed(request: Callable[[], Awaitable[httpx.Response]], read: Read) -> float:
    started = time.perf_counter()
    response = await request()
    elapsed = time.perf_counter() - started
    read.status = response.status_code
    return elapsed


async def measure_read(clients: list[httpx.AsyncClient], read: Read, requests: int) -> None:
    one = clients[0]
    await one.get(read.path)  # warm
    alone = [await _timed(lambda: one.get(read.path), read) for _ in range(requests)]

    async def client_loop(client: httpx.AsyncClient) -> list[float]:
        return [await _timed(lambda: client.get(read.path), read) for _ in range(requests)]

    together = [t for ts in await asyncio.gather(*map(client_loop, clients)) for t in ts]
    read.one_p50_ms = _ms(alone, 0.5)
    read.many_p50_ms = _ms(together, 0.5)
    read.many_p95_ms = _ms(together, 0.95)


async def measure_reads(args: argparse.Namespace, port: int) -> list[Read]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as anonymous:
        signed_in = await anonymous.post(
            "/api/v1/auth/tokens",
            json={"email": "admin@scale-academy-1.test", "password": GENERATED_PASSWORD},
        )
    headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    clients = [
        httpx.AsyncClient(base_url=base, headers=headers, timeout=300) for _ in range(args.clients)
    ]
    try:
        reads = await admin_reads(clients[0])
        for read in reads:
            await measure_read(clients, read, args.requests)
            print(
                f"  {read.name:24} one p50 {read.one_p50_ms:8.1f} ms   "
                f"{args.clients} clients p50 {read.many_p50_ms:8.1f} ms  "
                f"p95 {read.many_p95_ms:8.1f} ms   (HTTP {read.status})",
                flush=True,
            )
        return reads
    finally:
        for client in clients:
            await client.aclose()


def measure_size(args: argparse.Namespace, enrollments: int) -> SizeResult:
    with scratch_database(f"scale{enrollments}") as database:
        print(f"\n== {enrollments:,} enrollments ==", flush=True)
        generate_s = generate(database.async_url, enrollments, args.institutions)
        print(f"generated in {generate_s:.1f} s", flush=True)
        audit_s, audit_ok = asyncio.run(time_audit(database.async_url))
        print(
            f"lectern audit: {audit_s:.2f} s, {'clean' if audit_ok else 'VIOLATIONS'}", flush=True
        )
        result = SizeResult(enrollments, generate_s, audit_s, audit_ok)
        with lectern_server(database.async_url) as server:
            result.reads = asyncio.run(measure_reads(args, server.port))
        return result


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
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20, help="per client and read")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--no-enrollment", action="store_true", help="skip bench/enrollment.py")
    args = parser.parse_args()
    results = [measure_size(args, int(size)) for size in args.sizes.split(",")]
    if len(results) > 1:
        print_growth(results)
    enrollment = "" if args.no_enrollment else run_enrollment_bench()
    if enrollment:
        print("\nbench/enrollment.py with the aggregates in place:\n" + enrollment)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"sizes": [asdict(r) for r in results], "enrollment": enrollment}, indent=2)
        )


if __name__ == "__main__":
    main()
