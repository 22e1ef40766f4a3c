"""The pure shaping of chart figures."""

from datetime import UTC, date, datetime

from lectern.analytics.rules import (
    BUCKET_LABELS,
    completions_by_day,
    progress_histogram,
    share_correct,
)


def test_progress_histogram_puts_each_tenth_in_its_bucket_and_100_apart() -> None:
    counts = progress_histogram([0, 9.99, 10, 55, 99.9, 100, 100])
    assert len(counts) == len(BUCKET_LABELS) == 11
    assert counts[0] == 2
    assert counts[1] == 1
    assert counts[5] == 1
    assert counts[9] == 1
    assert counts[10] == 2
    assert sum(counts) == 7


def test_progress_histogram_clamps_values_outside_0_to_100() -> None:
    assert progress_histogram([-5, 140]) == [1] + [0] * 9 + [1]


def test_completions_by_day_counts_per_utc_day_oldest_first_and_skips_unfinished() -> None:
    moments = [
        datetime(2026, 3, 2, 23, 59, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        None,
        datetime(2026, 3, 2, 0, 1, tzinfo=UTC),
    ]
    assert completions_by_day(moments) == [(date(2026, 3, 1), 1), (date(2026, 3, 2), 2)]


def test_share_correct_is_none_without_attempts() -> None:
    assert share_correct(0, 0) is None
    assert share_correct(4, 3) == 0.75
