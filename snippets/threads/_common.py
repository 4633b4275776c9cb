"""What the threads demos share: which build and how many cores, how much CPU work
overlapped (CPU seconds per wall second), and claims that say what they hold for."""

from __future__ import annotations

import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor

from snippets.measure import cpu_timed, parallelism
from snippets.report import Claim

PARALLEL, SERIAL = 1.4, 1.3  # CPU s per wall s: above = overlapped, below = did not


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
    pool = ProcessPoolExecutor(workers, mp_context=fork)
    list(pool.map(time.sleep, [0.05] * workers))  # start every worker now
    return pool


def overlapped(pool: Executor, fn, args: list) -> tuple[float, float]:
    """Run fn(arg) for each arg on the pool; return (wall seconds, CPU s per wall s).

    Each task reports the CPU time of the thread that ran it, so the ratio is how
    many cores were busy with this work at once, however fast each core was."""
    start = time.perf_counter()
    results = list(pool.map(cpu_timed, [fn] * len(args), args))
    wall = time.perf_counter() - start
    return wall, parallelism((cpu for cpu, _ in results), wall)


def overlap_claim(what: str, rates: list[float], parallel: bool) -> Claim:
    """Judge the median CPU seconds per wall second over interleaved rounds: above
    PARALLEL needs two cores busy with the work at the same time; under SERIAL is
    about one core's worth, however fast or shared each core was."""
    rate = statistics.median(rates)
    evidence = f"median of {len(rates)} rounds: {rate:.2f} CPU s per wall s"
    if parallel:
        return Claim(f"{what} run at once: > {PARALLEL} CPU seconds per wall second",
                     evidence, rate > PARALLEL, timing=True)
    return Claim(f"{what} take turns: < {SERIAL} CPU seconds per wall second",
                 evidence, rate < SERIAL, timing=True)
