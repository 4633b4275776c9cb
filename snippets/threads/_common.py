"""What the threads demos share: which build and how many cores, and claims that
say which they were checked on."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor

from snippets.report import Claim


def gil_enabled() -> bool:
    """False only on a free-threaded build (3.13t and later) running without the GIL."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask), not all the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def build() -> str:
    gil = "GIL enabled" if gil_enabled() else "GIL disabled (free-threaded)"
    return f"{platform.python_implementation()} {platform.python_version()}, {gil}"


def process_pool(workers: int) -> ProcessPoolExecutor:
    """fork on Linux: every worker starts at once and none outlives the pool."""
    fork = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    return ProcessPoolExecutor(workers, mp_context=fork)


def ratio_claim(what: str, ratio: float, parallel: bool) -> Claim:
    """Work that can run in parallel must take < 0.8x sequential, other work > 0.85x."""
    if parallel:
        return Claim(f"{what} take < 0.8x sequential", f"{ratio:.2f}x", ratio < 0.8)
    return Claim(f"{what} take > 0.85x sequential", f"{ratio:.2f}x", ratio > 0.85)
