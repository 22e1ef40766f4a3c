"""Run every benchmark and write bench/results.md: each figure, its same-run baseline, the
ratio, the target, and the machine it ran on. `bench/run` runs this.

    bench/run [--quick] [--only NAME[,NAME]] [--reuse-scale]

--quick runs the smaller sets (scale at 10k and 100k, fewer approvals). --only runs the named
benchmarks and replaces their rows in bench/results.md, keeping the others and saying when the
named ones ran. A benchmark that fails or cannot run here (valgrind missing, the legacy sample
absent) gets a row that says so.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results.md"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Row:
    benchmark: str
    figure: str
    value: str
    baseline: str
    ratio: str
    target: str


Parse = Callable[[str, str], list[Row]]


def _find(pattern: str, output: str) -> list[str]:
    found = re.search(pattern, output)
    if found is None:
        raise ValueError(f"no line matches {pattern!r}")
    return list(found.groups())


def enrollment(name: str, out: str) -> list[Row]:
    (lectern,) = _find(r"Lectern over HTTP\s+([\d,.]+) approvals/s", out)
    (raw,) = _find(r"raw SQL with asyncpg\s+([\d,.]+) approvals/s", out)
    (ratio,) = _find(r"ratio \(Lectern / raw\)\s+([\d.]+)", out)
    return [
        Row(
            name,
            "approvals over HTTP, 32 clients",
            f"{lectern}/s",
            f"{raw}/s, the same SQL by asyncpg",
            ratio,
            "≥ 0.5",
        )
    ]


def activity(name: str, out: str) -> list[Row]:
    rows = []
    pattern = (
        r"([\d,]+) rows: Lectern\s+([\d,]+) events/s.*raw upserts\s+([\d,]+)/s.*ratio\s+([\d.]+)"
    )
    for existing, lectern, raw, ratio in re.findall(pattern, out):
        rows.append(
            Row(
                name,
                f"learner events over HTTP, {existing} rows",
                f"{lectern}/s",
                f"{raw}/s single-row upserts",
                ratio,
                "≥ 1.0",
            )
        )
    if not rows:
        raise ValueError("no rates found")
    return rows


def payments(name: str, out: str) -> list[Row]:
    lectern, raw, ratio = _find(
        r"completions: Lectern\s+([\d,]+)/s.*raw writes\s+([\d,]+)/s.*ratio ([\d.]+)", out
    )
    duplicates, times = _find(r"duplicates:\s+Lectern\s+([\d,]+)/s.*vs completions ([\d.]+)x", out)
    return [
        Row(
            name,
            "webhook completions, 8 clients",
            f"{lectern}/s",
            f"{raw}/s raw writes",
            ratio,
            "—",
        ),
        Row(name, "duplicate deliveries", f"{duplicates}/s", "completions", f"{times}×", "> 1"),
    ]


def stream(name: str, out: str) -> list[Row]:
    rows = [
        Row(
            name,
            f"p99 commit to receipt, event aimed at {kind}, 10,000 streams",
            f"{p99} ms",
            "15 s polling (p99 14,850 ms)",
            f"{14850 / max(float(p99), 0.01):,.0f}× sooner",
            "≤ 50 ms",
        )
        for kind, p99 in re.findall(r"aimed at (.+?): p99 ([\d.]+) ms", out)
    ]
    (kb,) = _find(r"memory: ([\d.]+) KB per stream", out)
    return [*rows, Row(name, "memory per open stream", f"{kb} KB", "", "", "≤ 50 KB")]


def import_legacy(name: str, out: str) -> list[Row]:
    lectern, copy = (
        _find(r"Lectern import: .*?([\d,]+) rows/s", out)[0],
        _find(r"COPY baseline: .*?([\d,]+) rows/s", out)[0],
    )
    (ratio,) = _find(r"ratio Lectern / COPY: ([\d.]+)", out)
    return [Row(name, "legacy rows taken in", f"{lectern}/s", f"{copy}/s COPY", ratio, "≥ 0.25")]


def instructions(name: str, out: str) -> list[Row]:
    (server,) = _find(r"Lectern server process\s+([\d.]+) M", out)
    (client,) = _find(r"asyncpg client, same SQL\s+([\d.]+) M", out)
    (ratio,) = _find(r"ratio \(client / server\)\s+([\d.]+)", out)
    return [
        Row(
            name,
            "CPU instructions per approval",
            f"{server} M",
            f"{client} M asyncpg client",
            ratio,
            "—",
        )
    ]


def enroll_csv(name: str, out: str) -> list[Row]:
    (lectern,) = _find(r"Lectern \(enroll-csv --apply\):.*?([\d,]+) rows/s", out)
    (raw,) = _find(r"raw INSERTs \(baseline\):.*?([\d,]+) rows/s", out)
    (times,) = _find(r"ratio \(Lectern / baseline\):\s+([\d.]+)x", out)
    return [
        Row(
            name,
            "roster rows applied",
            f"{lectern}/s",
            f"{raw}/s raw INSERTs",
            f"{times}× the time",
            "—",
        )
    ]


def scale_rows(name: str, figures: dict[str, object]) -> list[Row]:
    sizes: list[dict[str, object]] = figures["sizes"]  # type: ignore[assignment]
    first = sizes[0]
    rows = []
    for size in sizes:
        n = f"{size['enrollments']:,}"
        if size["generate_s"] is not None:
            rows.append(
                Row(
                    name,
                    f"lectern generate, {n} enrollments",
                    f"{size['generate_s']:.0f} s",
                    "",
                    "",
                    "< 600 s at 1M",
                )
            )
        ratio = size["audit_s"] / first["audit_s"]  # type: ignore[operator]
        clean = "clean" if size["audit_ok"] else "VIOLATIONS"
        rows.append(
            Row(
                name,
                f"lectern audit, {n} enrollments ({clean})",
                f"{size['audit_s']:.2f} s",
                f"{first['audit_s']:.2f} s at {first['enrollments']:,}",
                f"{ratio:.1f}",
                "≤ 10 s at 1M",
            )
        )
        for read, base in zip(size["reads"], first["reads"], strict=True):  # type: ignore[call-overload]
            ratio = read["many_p95_ms"] / base["many_p95_ms"]
            rows.append(
                Row(
                    name,
                    f"{read['name']}, {n}: p95, 8 clients (p50 alone {read['one_p50_ms']:.0f} ms)",
                    f"{read['many_p95_ms']:.0f} ms",
                    f"{base['many_p95_ms']:.0f} ms at {first['enrollments']:,}",
                    f"{ratio:.2f}",
                    "≤ 50 ms and ≤ 2× at 1M",
                )
            )
    cost: dict[str, float] | None = figures.get("tally_cost")  # type: ignore[assignment]
    if cost:
        rows.append(
            Row(
                name,
                "approvals with the tallies (alternating rounds, one server)",
                f"{cost['with_tallies']:.0f}/s",
                f"{cost['without_tallies']:.0f}/s without them",
                f"{cost['ratio']:.2f}",
                "≥ 0.9",
            )
        )
    return rows


BENCHMARKS: list[tuple[str, list[str], list[str], Parse]] = [
    # name, full flags, --quick flags, parser
    ("enrollment.py", [], ["--requests", "2000", "--rounds", "3"], enrollment),
    ("activity.py", [], [], activity),
    ("payments.py", [], [], payments),
    ("enroll_csv.py", [], ["--rows", "2000"], enroll_csv),
    ("import.py", [], ["--students", "10000"], import_legacy),
    ("instructions.py", [], ["--approvals", "100"], instructions),
    ("stream.py", [], [], stream),
]


def run_one(script: str, flags: list[str]) -> tuple[int, str]:
    done = subprocess.run(  # noqa: S603 - our interpreter and our scripts
        [sys.executable, str(BENCH / script), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def failed(name: str, output: str) -> Row:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    last = next((line for line in reversed(lines) if "Error" in line), lines[-1] if lines else "")
    return Row(name, "did not run", "—", "", "", last[:120].replace("|", "/"))


def machine() -> list[str]:
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    url = make_url(os.environ.get("LECTERN_BENCH_POSTGRES_URL", DEFAULT_URL))
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
    engine.dispose()
    return [
        f"- cores: {os.cpu_count()}, memory: {int(memory) / 2**20:.0f} GiB, "
        f"PostgreSQL {version}, Python {sys.version.split()[0]}",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average at the start: "
        f"{os.getloadavg()[0]:.1f} (the machine is shared: other work slows both sides)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smaller sets")
    parser.add_argument("--only", help="comma-separated benchmark names, e.g. scale,enrollment")
    parser.add_argument(
        "--reuse-scale",
        action="store_true",
        help="bench/scale.py --reuse: keep its databases, measure existing ones again",
    )
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else None
    header = machine()
    rows: list[Row] = []
    for script, full, quick, parse in BENCHMARKS:
        name = script.removesuffix(".py")
        if chosen is not None and name not in chosen:
            continue
        if name == "instructions" and shutil.which("valgrind") is None:
            rows.append(
                Row(f"bench/{script}", "did not run", "—", "", "", "valgrind is not installed")
            )
            continue
        print(f"running bench/{script} …", flush=True)
        code, output = run_one(script, quick if args.quick else full)
        try:
            rows.extend(
                parse(f"bench/{script}", output)
                if code == 0
                else [failed(f"bench/{script}", output)]
            )
        except ValueError:
            rows.append(failed(f"bench/{script}", output))
    if chosen is None or "scale" in chosen:
        print("running bench/scale.py …", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            figures_file = Path(scratch) / "scale.json"
            sizes = "10000,100000" if args.quick else "10000,100000,1000000"
            flags = ["--sizes", sizes, "--json", str(figures_file), "--no-enrollment"]
            code, output = run_one("scale.py", flags + (["--reuse"] if args.reuse_scale else []))
            if code == 0:
                rows.extend(scale_rows("bench/scale.py", json.loads(figures_file.read_text())))
            else:
                rows.append(failed("bench/scale.py", output))
    if chosen is not None and RESULTS.exists():
        header, rows = _merged(header, rows, chosen)
    write(header, rows)


def _merged(header: list[str], rows: list[Row], chosen: set[str]) -> tuple[list[str], list[Row]]:
    """The rows of the benchmarks just run in place of theirs in bench/results.md, the others
    kept, under that file's header with a line saying when these ran."""
    lines = RESULTS.read_text().splitlines()
    names = ", ".join(f"bench/{name}.py" for name in sorted(chosen))
    again = f"- {names} ran again alone, "
    kept_header = [line for line in lines if line.startswith("- ") and not line.startswith(again)]
    when = next(line for line in header if line.startswith("- date: "))
    kept_header.append(again + when.removeprefix("- date: "))
    fresh: dict[str, list[Row]] = {}
    for row in rows:
        fresh.setdefault(row.benchmark, []).append(row)
    merged: list[Row] = []
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not line.startswith("| bench/") or len(cells) != 6:
            continue
        if cells[0].removeprefix("bench/").removesuffix(".py") not in chosen:
            merged.append(Row(*cells))
        elif cells[0] in fresh:
            merged.extend(fresh.pop(cells[0]))
    merged.extend(row for some in fresh.values() for row in some)
    return kept_header, merged


def write(header: list[str], rows: list[Row]) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run`; each figure beside its baseline measured in the same run.",
        "",
        *header,
        "",
        "| benchmark | figure | value | same-run baseline | ratio | target |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.benchmark} | {r.figure} | {r.value} | {r.baseline} | {r.ratio} | {r.target} |"
            for r in rows
        ),
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
