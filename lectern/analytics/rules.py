"""Pure shaping of figures for the admin charts, tested without a database."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

BUCKET_LABELS = [f"{low}–{low + 9} %" for low in range(0, 100, 10)] + ["100 %"]


def progress_histogram(progresses: Iterable[float]) -> list[int]:
    """How many enrollments fall in each tenth of progress, with 100 % apart: 11 counts."""
    counts = [0] * len(BUCKET_LABELS)
    for progress in progresses:
        value = min(max(float(progress), 0.0), 100.0)
        counts[10 if value >= 100.0 else int(value // 10)] += 1
    return counts


def completions_by_day(completed_at: Iterable[datetime | None]) -> list[tuple[date, int]]:
    """Completions per calendar day (UTC), oldest first, with running totals left to the chart."""
    days = Counter(moment.date() for moment in completed_at if moment is not None)
    return sorted(days.items())


def share_correct(attempts: int, correct: int) -> float | None:
    return correct / attempts if attempts else None
