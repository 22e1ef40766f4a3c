"""Pure rules of outbound delivery: when to try again, when to pause, what to send next."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, Protocol, TypeVar

# Past this many doublings every wait is the longest anyway; it keeps the product finite.
_MOST_DOUBLINGS = 40


def retry_delay(failures: int, *, first: timedelta, longest: timedelta, jitter: float) -> timedelta:
    """How long after its `failures`-th failure in a row a destination is tried again: the
    first wait, doubled with each failure, at most the longest; then scaled by a factor between
    one half and one (`jitter` is a number drawn from [0, 1)), so that destinations that failed
    together, when their receiver went down, do not all come back at the same moment."""
    if failures < 1:
        return timedelta(0)
    doubled = first * 2 ** min(failures - 1, _MOST_DOUBLINGS)
    return min(doubled, longest) * (0.5 + min(max(jitter, 0.0), 1.0) / 2)


def should_pause(consecutive_failures: int, pause_after: int) -> bool:
    """A destination that failed this many times in a row is paused until an admin resumes it."""
    return consecutive_failures >= pause_after


class HasId(Protocol):
    @property
    def id(self) -> int: ...


E = TypeVar("E", bound=HasId)


@dataclass(frozen=True)
class Plan(Generic[E]):
    """What to send next (in id order; maybe nothing) and where the cursor stands once it is
    accepted (or at once, when there is nothing to send)."""

    batch: list[E]
    through: int


def plan(
    scanned: Sequence[E],
    chosen: Callable[[E], bool],
    *,
    head: int,
    scan_limit: int,
    batch_size: int,
) -> Plan[E]:
    """From the destination's next events (`scanned`, in id order, at most `scan_limit` of them,
    every final one up to `head` if fewer), those it takes (`chosen`), at most `batch_size`.
    The cursor may pass every event scanned that it does not take, and, when the scan ended
    short of its limit, every id up to the head: none of those is for it."""
    seen_through = scanned[-1].id if len(scanned) >= scan_limit else head
    selected = [event for event in scanned if chosen(event)]
    if len(selected) > batch_size:
        batch = selected[:batch_size]
        return Plan(batch, batch[-1].id)
    return Plan(selected, seen_through)
