"""Pure learning rules: watched intervals, quiz scores, course progress and completion.

Nothing here touches the database; the commands gather the facts and ask these functions.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Interval = tuple[float, float]

# A video counts as watched when the union of its watched intervals covers this share.
VIDEO_COMPLETE_SHARE = 0.9
# Stored progress is rounded to this many decimals; below 100 until every item is done.
PROGRESS_DECIMALS = 2


def merge_intervals(intervals: Iterable[Sequence[float]]) -> list[Interval]:
    """The union of [from, to] intervals as sorted, disjoint intervals (touching ones join)."""
    merged: list[Interval] = []
    for start, end in sorted((float(i[0]), float(i[1])) for i in intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def back_to_back_joined(intervals: Iterable[Sequence[float]]) -> list[Interval]:
    """The intervals in the order given, each one that starts where the one before it ended
    joined to it: a player that reports every few seconds of one continuous play played once."""
    joined: list[Interval] = []
    for start, end in ((float(i[0]), float(i[1])) for i in intervals):
        if joined and start == joined[-1][1]:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def covered_seconds(intervals: Iterable[Sequence[float]]) -> float:
    """Seconds covered by the union of the intervals; overlaps count once."""
    return sum(end - start for start, end in merge_intervals(intervals))


def video_complete(watched_s: float, duration_s: float) -> bool:
    """Watched when the union covers at least 90 % of the duration; a seek covers nothing."""
    if duration_s <= 0:
        return False
    # A small tolerance absorbs float rounding of intervals that sum to exactly 90 %.
    return watched_s + 1e-9 >= VIDEO_COMPLETE_SHARE * duration_s


def interval_problem(from_s: float, to_s: float, duration_s: float) -> str | None:
    """Why a watched interval cannot be accepted, or None when it can."""
    if from_s < 0 or to_s < 0:
        return "from_s and to_s must not be negative"
    if from_s >= to_s:
        return "from_s must be less than to_s"
    if to_s > duration_s:
        return f"to_s {to_s:g} is beyond the video's duration of {duration_s:g} s"
    return None


def quiz_score(correct_answers: Sequence[int], given: Sequence[int]) -> float:
    """The share of questions answered correctly, 0 to 1; the caller checks the lengths match."""
    if not correct_answers:
        return 0.0
    right = sum(1 for want, got in zip(correct_answers, given, strict=True) if want == got)
    return right / len(correct_answers)


def passes(score: float, pass_mark: float) -> bool:
    return score + 1e-9 >= pass_mark


@dataclass(frozen=True, slots=True)
class ProgressItem:
    """One thing a course requires: a required lesson, or the course's Q-bank pass."""

    key: str
    weight: float
    done: bool


def course_items(
    required_lessons: Iterable[tuple[int, float]],
    completed_lesson_ids: set[int],
    *,
    qbank_required: bool,
    qbank_passed: bool,
) -> list[ProgressItem]:
    """The course's required items and whether each is done; the Q-bank pass weighs 1."""
    items = [
        ProgressItem(f"lesson:{lesson_id}", weight, lesson_id in completed_lesson_ids)
        for lesson_id, weight in required_lessons
    ]
    if qbank_required:
        items.append(ProgressItem("qbank", 1.0, qbank_passed))
    return items


def course_progress(items: Sequence[ProgressItem]) -> float:
    """The weighted share of required items done, 0 to 100.

    Exactly 100 when every item is done, and below 100 otherwise (rounding never reaches it).
    A course that requires nothing has progress 0: there is nothing to complete.
    """
    total = sum(item.weight for item in items)
    if not items or total <= 0:
        return 0.0
    if all(item.done for item in items):
        return 100.0
    done = sum(item.weight for item in items if item.done)
    share = round(100.0 * done / total, PROGRESS_DECIMALS)
    return min(share, 100.0 - 10**-PROGRESS_DECIMALS)


def criteria_met(items: Sequence[ProgressItem]) -> bool:
    """A course is completed when it requires something and every required item is done."""
    return bool(items) and all(item.done for item in items)


def qbank_score(correct: int, questions: int) -> float:
    """A Q-bank test's score: the share of its questions answered correctly (unanswered ones
    count as wrong)."""
    return correct / questions if questions else 0.0
