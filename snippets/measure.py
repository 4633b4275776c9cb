"""Measurement helpers shared by every episode's snippets.

Timing on a small shared machine is noisy: two vCPUs may share one physical core,
and a reader's browser or compiler may hold a core. So:

* compare variants **interleaved** and repeated (`rounds`), never against one
  baseline run that a neighbour may have disturbed;
* measure parallelism as **CPU seconds per wall second** (`cpu_timed`,
  `parallelism`): two processes burn about two CPU seconds per wall second even when
  each runs slowly, two GIL-bound threads about one. Make each round last many
  scheduler ticks (tens of ms: a tick is 4 ms at CONFIG_HZ=250): a second thread
  woken onto the busy vCPU waits a tick before it moves to the idle one, which ruins
  a 10 ms round, and no load check sees it (nothing else is running);
* time a client against its server **on one core** (`one_core`): each request hands
  the CPU from one process to the other, and waking a process on the *other* vCPU of
  a VM can cost more than the query itself, so throughput jumps with where the
  scheduler happened to put them;
* run timing claims through `check_timing`, which records how much CPU *other*
  processes used meanwhile (from /proc/stat), re-measures a failed timing claim
  within a bounded budget, and turns a failure seen on a busy machine into *not
  checked here* with that reason. A failure on a quiet machine stays *not held*.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from snippets.report import Claim, failed

T = TypeVar("T")
# Other processes (or the hypervisor, as steal time) using more than this make a
# timing run suspect. Measured here: 0.27 cores of steal over a whole run already
# cost two processes a quarter of their second core (1.33 CPU s per wall s).
BUSY_CORES = 0.15


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


def rounds(count: int, variants: dict[str, Callable[[], object]]) -> dict[str, list]:
    """Time each variant once per round, interleaved: {name: [seconds per round]}."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(count):
        for name, fn in variants.items():
            times[name].append(timed(fn)[0])
    return times


def paired_ratios(times: dict[str, list[float]], over: str, base: str) -> list[float]:
    """`over` / `base` within each round: a disturbed round spoils one pair only."""
    return [a / b for a, b in zip(times[over], times[base], strict=True)]


def cpu_timed(fn: Callable[..., T], *args: object) -> tuple[float, T]:
    """Run fn(*args) on this thread; return (CPU seconds this thread used, result).

    Module-level so a process pool can run it: each task reports its own CPU time.
    """
    start = time.thread_time()
    value = fn(*args)
    return time.thread_time() - start, value


def parallelism(cpu_seconds: Iterable[float], wall_seconds: float) -> float:
    """CPU seconds per wall second: ~1 for one busy thread, ~2 for two in parallel."""
    return sum(cpu_seconds) / wall_seconds


@contextmanager
def one_core() -> Iterator[int]:
    """Pin this thread, and every process or thread it starts meanwhile, to one core
    of those it may use (restored on exit); yields that core's number."""
    allowed = os.sched_getaffinity(0)
    core = min(allowed)
    os.sched_setaffinity(0, {core})  # 0: the calling thread; children inherit it
    try:
        yield core
    finally:
        os.sched_setaffinity(0, allowed)


# -- how busy the rest of the machine was ------------------------------------------

_STAT = Path("/proc/stat")


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (user, nice, system, irq, softirq
    and steal: time the hypervisor gave to someone else counts as busy too)."""
    fields = [int(v) for v in _STAT.read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(k) for k in task.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_descendants(kid)]
    return found


def _family_cpu_seconds() -> float:
    """CPU seconds used by this process, its reaped children and its live ones."""
    total = sum(os.times()[:4])
    for pid in _descendants(os.getpid()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        ticks = stat.rsplit(")", 1)[1].split()[11:15]  # utime stime cutime cstime
        total += sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Load:
    """Cores other processes kept busy during a `with watch_load()` block."""

    wall: float = 0.0
    others: float | None = None  # None where /proc/stat is missing

    @property
    def busy(self) -> bool:
        return self.others is not None and self.others > BUSY_CORES


class watch_load:
    def __enter__(self) -> Load:
        self.load = Load()
        self.known = _STAT.is_file()
        if self.known:
            self.start = (_machine_busy_seconds(), _family_cpu_seconds())
        self.t0 = time.perf_counter()
        return self.load

    def __exit__(self, *exc: object) -> None:
        self.load.wall = time.perf_counter() - self.t0
        if self.known and self.load.wall > 0:
            machine = _machine_busy_seconds() - self.start[0]
            mine = _family_cpu_seconds() - self.start[1]
            cores = os.cpu_count() or 1
            # whole clock ticks: each core's count, and ours, can be one tick off at
            # each end, which over a short window would look like a busy machine
            noise = 2 * (cores + 1) / os.sysconf("SC_CLK_TCK")
            others = max(0.0, machine - mine - noise) / self.load.wall
            self.load.others = min(cores, others)


@dataclass
class Checked(Generic[T]):
    """What `check_timing` measured, the verdicts, and how hard it tried."""

    result: T
    claims: list[Claim]
    attempts: int
    load: Load


def check_timing(measure: Callable[[], T], claims: Callable[[T], list[Claim]], *,
                 attempts: int = 3, budget: float = 15.0) -> Checked[T]:
    """Measure, judge, and re-measure while a timing claim fails (bounded).

    Only claims marked ``timing=True`` are retried or excused. If they still fail
    and the last attempt ran while other processes kept more than BUSY_CORES busy,
    they become *not checked here*, saying how busy the machine was; on a quiet
    machine they stay *not held*. Exact counts are never excused.
    """
    start = time.perf_counter()
    for attempt in range(1, attempts + 1):
        with watch_load() as load:
            result = measure()
        verdicts = claims(result)
        if not any(c.timing for c in failed(verdicts)):
            break
        if time.perf_counter() - start > budget:
            break
    if load.busy:
        reason = (f"machine busy: other processes kept {load.others:.1f} of "
                  f"{os.cpu_count()} cores busy while measuring "
                  f"({attempt} attempt{'s' if attempt > 1 else ''})")
        verdicts = [replace(c, reason=reason)
                    if c.held is False and c.timing else c for c in verdicts]
    return Checked(result, verdicts, attempt, load)
