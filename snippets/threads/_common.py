"""What the threads demos share: which build and how many cores, whether under a
hypervisor, how much CPU work overlapped (CPU seconds per wall second), and findings
that say what they hold for."""

from __future__ import annotations

import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from snippets.measure import cpu_timed, parallelism
from snippets.report import Claim, Expectation, above, below, caller_module, finding

PARALLEL, SERIAL = 1.4, 1.3  # CPU s per wall s: above = overlapped, below = did not
RATE = "CPU s per wall s"


def gil_enabled() -> bool:
    """False only on a free-threaded build (3.13t and later) running without the GIL."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask), not all the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def hypervisor() -> str:
    """What /proc/cpuinfo says: x86 CPUs under a hypervisor report the `hypervisor`
    flag (CPUID leaf 1, ECX bit 31); other CPUs have no such flag to show."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), None)
    if flags is None:
        return "unknown (no CPU flags in /proc/cpuinfo)"
    return ("yes (the CPU reports the hypervisor flag in /proc/cpuinfo)"
            if "hypervisor" in flags else "no hypervisor flag in /proc/cpuinfo")


def build(gil: bool | None = None) -> str:
    """This interpreter, and whether the GIL is on (here, unless `gil` says)."""
    gil = gil_enabled() if gil is None else gil
    gil = "GIL enabled" if gil else "GIL disabled (free-threaded)"
    return f"{platform.python_implementation()} {platform.python_version()}, {gil}"


def process_pool(workers: int) -> ProcessPoolExecutor:
    """fork on Linux: every worker starts at once and none outlives the pool."""
    fork = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    pool = ProcessPoolExecutor(workers, mp_context=fork)
    list(pool.map(time.sleep, [0.05] * workers))  # start every worker now
    return pool


def overlapped(pool: Executor, fn, args: list) -> tuple[float, float, list]:
    """Run fn(arg) for each arg on the pool: (wall seconds, CPU s per wall s, results).

    Each task reports the CPU time of the thread that ran it, so the ratio is how
    many cores were busy with this work at once, however fast each core was."""
    start = time.perf_counter()
    done = list(pool.map(cpu_timed, [fn] * len(args), args))
    wall = time.perf_counter() - start
    return wall, parallelism((c for c, _ in done), wall), [v for _, v in done]


@dataclass(frozen=True)
class Overlap:
    """One finding about CPU overlap, with the bound the build and cores call for:
    above PARALLEL needs two cores busy with the work at the same time; under SERIAL
    is about one core's worth, however fast or shared each core was."""

    at_once: Expectation
    in_turns: Expectation

    def of(self, rates: list[float], parallel: bool, **names: object) -> Claim:
        """Judge the median over interleaved rounds."""
        expectation = self.at_once if parallel else self.in_turns
        return expectation.of(statistics.median(rates),
                              detail=f"median of {len(rates)} rounds", **names)


def overlap(id: str, what: str) -> Overlap:
    """Declare an overlap finding (at module level): `what` names the work, and may
    use {build} and {cores}; the statement adds whether it runs at once."""
    module = caller_module()  # the snippet's, not this module's
    pair = [finding(id, f"{what} {how}: {{bound}}", bound, unit=RATE, fmt=".2f",
                    timing=True)
            for how, bound in (("run at once", above(PARALLEL)),
                               ("take turns", below(SERIAL)))]
    return Overlap(*(replace(e, module=module) for e in pair))
