"""The pure rules of outbound delivery, without a database."""

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from lectern.outbound.rules import plan, retry_delay, should_pause

FIRST, LONGEST = timedelta(seconds=10), timedelta(hours=1)


@dataclass(frozen=True)
class Ev:
    id: int
    wanted: bool = True


def test_the_wait_doubles_with_each_failure_up_to_the_longest() -> None:
    waits = [retry_delay(n, first=FIRST, longest=LONGEST, jitter=0.999999) for n in range(1, 12)]
    assert [round(w.total_seconds()) for w in waits[:4]] == [10, 20, 40, 80]
    assert waits[-1] <= LONGEST
    assert round(waits[-1].total_seconds()) == 3600


def test_jitter_takes_between_half_and_all_of_the_wait() -> None:
    assert retry_delay(3, first=FIRST, longest=LONGEST, jitter=0.0) == timedelta(seconds=20)
    assert retry_delay(3, first=FIRST, longest=LONGEST, jitter=0.5) == timedelta(seconds=30)


@given(st.integers(min_value=1, max_value=10**9), st.floats(min_value=0, max_value=1))
def test_a_wait_is_never_longer_than_the_longest_or_shorter_than_half_the_first(
    failures: int, jitter: float
) -> None:
    wait = retry_delay(failures, first=FIRST, longest=LONGEST, jitter=jitter)
    assert FIRST / 2 <= wait <= LONGEST


def test_no_failure_no_wait() -> None:
    assert retry_delay(0, first=FIRST, longest=LONGEST, jitter=0.7) == timedelta(0)


def test_a_destination_pauses_at_the_configured_number_of_failures_in_a_row() -> None:
    assert not should_pause(4, 5)
    assert should_pause(5, 5)
    assert should_pause(6, 5)


def test_a_scan_short_of_its_limit_lets_the_cursor_reach_the_head() -> None:
    step = plan([Ev(3), Ev(7)], lambda e: e.wanted, head=20, scan_limit=10, batch_size=5)
    assert ([e.id for e in step.batch], step.through) == ([3, 7], 20)


def test_a_full_scan_lets_the_cursor_pass_only_what_it_read() -> None:
    scanned = [Ev(i, wanted=False) for i in range(1, 11)]
    step = plan(scanned, lambda e: e.wanted, head=500, scan_limit=10, batch_size=5)
    assert (step.batch, step.through) == ([], 10)


def test_more_chosen_than_a_batch_moves_the_cursor_to_the_batchs_last() -> None:
    scanned = [Ev(i, wanted=i % 2 == 0) for i in range(1, 11)]
    step = plan(scanned, lambda e: e.wanted, head=10, scan_limit=100, batch_size=2)
    assert ([e.id for e in step.batch], step.through) == ([2, 4], 4)


def test_nothing_scanned_moves_the_cursor_to_the_head() -> None:
    step = plan([], lambda e: True, head=42, scan_limit=10, batch_size=5)
    assert (step.batch, step.through) == ([], 42)


@given(
    st.lists(st.booleans(), max_size=30),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=40),
)
def test_the_cursor_never_passes_a_chosen_event_that_was_not_sent(
    wanted: list[bool], batch_size: int, scan_limit: int
) -> None:
    events = [Ev(i + 1, w) for i, w in enumerate(wanted)]
    head = len(events) + 3
    scanned = events[:scan_limit]
    step = plan(
        scanned, lambda e: e.wanted, head=head, scan_limit=scan_limit, batch_size=batch_size
    )
    sent = {e.id for e in step.batch}
    assert [e.id for e in step.batch] == sorted(sent)
    assert all(e.wanted for e in step.batch)
    assert all(e.id in sent for e in events if e.wanted and e.id <= step.through)
    assert step.through >= max(sent, default=0)
