"""Background work in rounds, stopped between two rounds and never halfway through a statement:
on SQLite a worker cancelled in the middle of one left the process unable to end."""

import asyncio
import logging
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from lectern.app import create_app
from lectern.lti.worker import ScoreWorker
from lectern.platform.rounds import Rounds
from tests.conftest import make_settings


class Work:
    """A round that says when it begins and ends, and waits until let go."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.began = asyncio.Event()
        self.let_go = asyncio.Event()
        self.rounds_begun = 0
        self.rounds_ended = 0

    async def __call__(self) -> None:
        self.rounds_begun += 1
        self.began.set()
        await self.let_go.wait()
        self.rounds_ended += 1
        if self.fail:
            raise RuntimeError("this round failed")


async def test_a_round_runs_at_start_then_when_woken_long_before_its_pause() -> None:
    work = Work()
    work.let_go.set()
    rounds = Rounds(work, name="the test worker", pause=3600).start()
    await asyncio.wait_for(work.began.wait(), 5)
    work.began.clear()
    rounds.wake()
    await asyncio.wait_for(work.began.wait(), 5)
    await rounds.stop()
    assert work.rounds_ended == 2


async def test_a_timed_job_waits_for_its_first_pause_and_then_runs_every_pause() -> None:
    work = Work()
    work.let_go.set()
    rounds = Rounds(work, name="the test job", pause=0.05, first_after=0.05).start()
    await asyncio.sleep(0.01)
    assert work.rounds_begun == 0
    await asyncio.sleep(0.3)
    await rounds.stop()
    assert work.rounds_ended >= 3


async def test_stopping_lets_the_round_under_way_end_and_begins_no_other() -> None:
    work = Work()
    rounds = Rounds(work, name="the test worker", pause=0).start()
    await asyncio.wait_for(work.began.wait(), 5)
    stopping = asyncio.create_task(rounds.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    work.let_go.set()
    await asyncio.wait_for(stopping, 5)
    assert (work.rounds_begun, work.rounds_ended) == (1, 1)


async def test_a_failed_round_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = Work(fail=True)
    work.let_go.set()
    with caplog.at_level(logging.ERROR, logger="lectern.platform.rounds"):
        rounds = Rounds(work, name="the test worker", pause=0.01).start()
        await asyncio.wait_for(work.began.wait(), 5)
        work.began.clear()
        await asyncio.wait_for(work.began.wait(), 5)  # the round after the failed one
        await rounds.stop()
    assert "the test worker failed a round; it tries again" in caplog.messages
    assert caplog.records[0].exc_info is not None


async def test_a_round_that_outlasts_the_grace_of_stopping_is_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = Work()
    rounds = Rounds(work, name="the test worker", pause=3600).start()
    await asyncio.wait_for(work.began.wait(), 5)
    with caplog.at_level(logging.WARNING, logger="lectern.platform.rounds"):
        await asyncio.wait_for(rounds.stop(grace=0.05), 5)
    assert work.rounds_ended == 0
    assert "the test worker: a round outlasted 0 s of stopping; cancelled" in caplog.messages


async def test_stopping_rounds_never_started_does_nothing() -> None:
    await Rounds(Work(), name="the test worker", pause=1).stop()


def _slow_statement(dialect: str) -> Any:
    if dialect == "postgresql":
        return text("SELECT pg_sleep(0.5)")
    return text(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000) "
        "SELECT count(*) FROM n"
    )


async def _stop_the_app_in_the_middle_of_a_statement(database_url: str) -> list[str]:
    """Stop the app while the LTI score worker's round is in the middle of a statement; what
    the round did, and the tasks still running after."""
    said: list[str] = []
    began = asyncio.Event()

    async def slow_round(worker: ScoreWorker) -> None:
        async with worker.database.session() as session:
            began.set()
            said.append("began")
            await session.execute(_slow_statement(worker.database.engine.dialect.name))
            said.append("ended")

    application = create_app(make_settings(database_url))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ScoreWorker, "deliver_due", slow_round)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                assert (await http.get("/healthz")).status_code == 200
            await asyncio.wait_for(began.wait(), 10)
    current = asyncio.current_task()
    return said + [repr(task) for task in asyncio.all_tasks() if task is not current]


def test_the_app_stops_after_a_workers_statement_ends_and_leaves_nothing_running(
    database_url: str,
) -> None:
    outcome: list[list[str]] = []
    runner = threading.Thread(
        target=lambda: outcome.append(
            asyncio.run(_stop_the_app_in_the_middle_of_a_statement(database_url))
        ),
        daemon=True,
    )
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "the app's event loop never closed"
    assert outcome == [["began", "ended"]]
