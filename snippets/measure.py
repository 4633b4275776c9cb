"""Small measurement helpers shared by every episode's snippets."""

from __future__ import annotations

import statistics
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Run fn once; return (seconds elapsed on a monotonic clock, its result)."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    """The fastest of several runs: the least disturbed by a noisy neighbour."""
    return min(timed(fn)[0] for _ in range(repeats))


def median_of(repeats: int, fn: Callable[[], object]) -> float:
    """The median of several runs, when the typical run matters more than the best."""
    return statistics.median(timed(fn)[0] for _ in range(repeats))
