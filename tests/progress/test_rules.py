"""The pure rules, tested without a database."""

from hypothesis import given
from hypothesis import strategies as st

from lectern.progress.rules import (
    ProgressItem,
    course_items,
    course_progress,
    covered_seconds,
    criteria_met,
    merge_intervals,
    video_complete,
)

DURATION = 600
seconds = st.integers(min_value=0, max_value=DURATION)
intervals = st.lists(
    st.tuples(seconds, seconds).map(sorted).filter(lambda i: i[0] < i[1]), max_size=30
)
weights = st.floats(min_value=0.01, max_value=100, allow_nan=False)
items = st.lists(st.tuples(weights, st.booleans()), max_size=40)


def _brute_force_coverage(spans: list[list[int]]) -> int:
    """Whole seconds covered, counted one by one."""
    return sum(1 for t in range(DURATION) if any(a <= t < b for a, b in spans))


@given(intervals)
def test_coverage_is_the_size_of_the_union(spans: list[list[int]]) -> None:
    assert covered_seconds(spans) == _brute_force_coverage(spans)


@given(intervals)
def test_merged_intervals_are_sorted_disjoint_and_cover_the_same(spans: list[list[int]]) -> None:
    merged = merge_intervals(spans)
    assert all(a < b for a, b in merged)
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
    assert covered_seconds(merged) == covered_seconds(spans)
    assert merge_intervals(merged) == merged


@given(intervals, intervals)
def test_coverage_never_shrinks_and_is_order_free(a: list[list[int]], b: list[list[int]]) -> None:
    assert covered_seconds(a + b) >= covered_seconds(a)
    assert covered_seconds(a + b) == covered_seconds(b + a)
    assert covered_seconds(a + b) <= DURATION


def test_a_seek_to_the_end_is_not_watching() -> None:
    assert not video_complete(covered_seconds([(0, 5), (595, 600)]), DURATION)
    assert video_complete(covered_seconds([(0, 300), (250, 540)]), DURATION)
    assert not video_complete(covered_seconds([(0, 300), (250, 539)]), DURATION)


def _items(spec: list[tuple[float, bool]]) -> list[ProgressItem]:
    return [ProgressItem(f"lesson:{i}", w, done) for i, (w, done) in enumerate(spec)]


@given(items)
def test_progress_is_between_0_and_100(spec: list[tuple[float, bool]]) -> None:
    assert 0 <= course_progress(_items(spec)) <= 100


@given(items, st.data())
def test_progress_never_decreases_as_facts_are_added(
    spec: list[tuple[float, bool]], data: st.DataObject
) -> None:
    before = _items(spec)
    flips = data.draw(st.sets(st.integers(0, max(len(spec) - 1, 0))))
    after = [
        ProgressItem(item.key, item.weight, item.done or i in flips)
        for i, item in enumerate(before)
    ]
    assert course_progress(after) >= course_progress(before)


@given(items)
def test_progress_is_100_exactly_when_every_required_item_is_done(
    spec: list[tuple[float, bool]],
) -> None:
    progress_items = _items(spec)
    everything_done = bool(spec) and all(done for _, done in spec)
    assert (course_progress(progress_items) == 100) == everything_done
    assert criteria_met(progress_items) == everything_done


@given(st.lists(st.tuples(st.integers(1, 10**6), weights), unique_by=lambda x: x[0]), st.booleans())
def test_a_required_qbank_pass_is_one_more_item(
    lessons: list[tuple[int, float]], qbank_passed: bool
) -> None:
    done = {lesson_id for lesson_id, _ in lessons}
    with_qbank = course_items(lessons, done, qbank_required=True, qbank_passed=qbank_passed)
    assert (course_progress(with_qbank) == 100) == qbank_passed
    without = course_items(lessons, done, qbank_required=False, qbank_passed=False)
    assert course_progress(without) == (100 if lessons else 0)
