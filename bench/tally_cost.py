"""What the tallies cost approvals: approvals per second through HTTP with the tally triggers
on, against the same server with them off, in one run.

One `lectern serve` process on a scratch PostgreSQL database seeded as bench/enrollment.py
seeds it. Rounds alternate: a batch of approvals with the triggers on, then one with them off
(ALTER TABLE … DISABLE TRIGGER between rounds, nothing else changes), the order swapped every
round so that a slower moment of a shared machine weighs on both sides. The ratio (with / without)
is the median of the rounds' ratios; the target is >= 0.9.

    .venv/bin/python bench/tally_cost.py [--requests N] [--clients C] [--rounds R]
"""

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from enrollment import Connection, http_rate, seed
from harness import lectern_server, scratch_database
from sqlalchemy import create_engine, text

from lectern.tallies.rebuild import TALLY_TRIGGERS

TARGET = 0.9


@dataclass(frozen=True)
class TallyCost:
    with_tallies: float  # approvals per second, median of rounds
    without_tallies: float
    ratio: float  # median of the rounds' ratios
    rounds: list[tuple[float, float]]


def set_tally_triggers(sync_url: str, on: bool) -> None:
    state = "ENABLE" if on else "DISABLE"
    engine = create_engine(sync_url)
    with engine.begin() as connection:
        for table, names in TALLY_TRIGGERS.items():
            for name in names:
                connection.execute(text(f"ALTER TABLE {table} {state} TRIGGER {name}"))
    engine.dispose()


async def _rate(sync_url: str, http: list[Connection], ids: list[int], on: bool) -> float:
    await asyncio.to_thread(set_tally_triggers, sync_url, on)
    started = time.perf_counter()
    await http_rate(http, ids)
    return len(ids) / (time.perf_counter() - started)


async def _measure(args: argparse.Namespace, async_url: str, sync_url: str) -> TallyCost:
    warmup = min(200, args.requests // 5)
    batch = args.requests // args.rounds
    with_ids, without_ids = seed(sync_url, warmup + batch * args.rounds)
    rounds: list[tuple[float, float]] = []
    with lectern_server(async_url) as server:
        http = [await Connection.open(server.port) for _ in range(args.clients)]
        try:
            await _rate(sync_url, http, with_ids[:warmup], on=True)
            await _rate(sync_url, http, without_ids[:warmup], on=False)
            for n in range(args.rounds):
                ids = slice(warmup + n * batch, warmup + (n + 1) * batch)
                if n % 2 == 0:
                    on = await _rate(sync_url, http, with_ids[ids], on=True)
                    off = await _rate(sync_url, http, without_ids[ids], on=False)
                else:
                    off = await _rate(sync_url, http, without_ids[ids], on=False)
                    on = await _rate(sync_url, http, with_ids[ids], on=True)
                rounds.append((on, off))
        finally:
            for connection in http:
                connection.close()
    return TallyCost(
        with_tallies=statistics.median(r[0] for r in rounds),
        without_tallies=statistics.median(r[1] for r in rounds),
        ratio=statistics.median(r[0] / r[1] for r in rounds),
        rounds=rounds,
    )


def measure_tally_cost(requests: int, clients: int, rounds: int) -> TallyCost:
    args = argparse.Namespace(requests=requests, clients=clients, rounds=rounds)
    with scratch_database("tallycost") as database:
        return asyncio.run(_measure(args, database.async_url, database.sync_url))


def report(cost: TallyCost) -> str:
    lines = [
        f"  round {n}: with tallies {on:6.0f}/s  without {off:6.0f}/s  ratio {on / off:.2f}"
        for n, (on, off) in enumerate(cost.rounds, 1)
    ]
    verdict = "ok" if cost.ratio >= TARGET else "MISS"
    lines += [
        f"approvals with the tallies     {cost.with_tallies:8.0f}/s (median)",
        f"approvals without the tallies  {cost.without_tallies:8.0f}/s (median)",
        f"ratio (with / without)         {cost.ratio:8.2f}   (target >= {TARGET}) {verdict}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # A round lasts about two seconds, and a moment of the machine's other work moves one
    # round's ratio by 0.1 or more: the median of twelve rounds holds still where six did not.
    parser.add_argument("--requests", type=int, default=12000, help="per side")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    print(report(measure_tally_cost(args.requests, args.clients, args.rounds)))


if __name__ == "__main__":
    main()
