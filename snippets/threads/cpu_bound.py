"""Pure-Python CPU work: with the GIL two threads take turns, two processes overlap."""

from __future__ import annotations

import statistics
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import best_of, check_timing, timed
from snippets.report import Claim, publish, table
from snippets.threads._common import (
    build,
    gil_enabled,
    hypervisor,
    overlap,
    overlapped,
    process_pool,
    usable_cores,
)

WAYS = ("threads", "processes")
ROUNDS = 3  # interleaved rounds: one after another, threads, processes
THREADS = overlap("python-threads-overlap", "{build}, {cores} usable cores: "
                  "{tasks} threads of pure-Python work")
PROCESSES = overlap("python-processes-overlap", "{build}, {cores} usable cores: "
                    "{tasks} processes of pure-Python work")


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i % 7
    return total


def one_round(n: int, tasks: int, threads: ThreadPoolExecutor,
              processes: ProcessPoolExecutor) -> dict[str, tuple[float, float]]:
    """The same spins one after another, then at once on each pool:
    {way: (speed-up on the wall clock, CPU seconds per wall second)}."""
    alone, _ = timed(lambda: [spin(n) for _ in range(tasks)])
    out = {}
    for way, pool in (("threads", threads), ("processes", processes)):
        wall, cpu_per_wall, _ = overlapped(pool, spin, [n] * tasks)
        out[way] = (alone / wall, cpu_per_wall)
    return out


def calibrate(seconds: float) -> int:
    """Loop count for `spin` to take about `seconds` when the machine is quiet."""
    n = 100_000
    return int(n * seconds / best_of(3, lambda: spin(n)))


@dataclass(frozen=True)
class CpuResult:
    tasks: int
    cores: int
    gil: bool
    speedup: dict[str, float]  # wall: one after another / pool, median of rounds
    per_wall: dict[str, list[float]]  # CPU s per wall s of the pool, each round


def measure(tasks: int = 2, seconds: float = 0.08, rounds: int = ROUNDS) -> CpuResult:
    """Interleaved rounds (`one_round`) on pools started once."""
    n = calibrate(seconds)
    with ThreadPoolExecutor(tasks) as threads, process_pool(tasks) as processes:
        overlapped(threads, spin, [1000] * tasks)  # start every thread first
        runs = [one_round(n, tasks, threads, processes) for _ in range(rounds)]
    return CpuResult(tasks, usable_cores(), gil_enabled(),
                     {w: statistics.median(r[w][0] for r in runs) for w in WAYS},
                     {w: [r[w][1] for r in runs] for w in WAYS})


def claims(r: CpuResult) -> list[Claim]:
    where = {"build": build(r.gil), "cores": r.cores, "tasks": r.tasks}
    return [THREADS.of(r.per_wall["threads"], not r.gil and r.cores >= 2, **where),
            PROCESSES.of(r.per_wall["processes"], r.cores >= 2, **where)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{build()}, {r.cores} usable cores; {r.tasks} tasks")
    print(f"virtual machine: {hypervisor()}")
    med = statistics.median
    rows = [[f"{r.tasks} {w}", f"{r.speedup[w]:.2f}", f"{med(r.per_wall[w]):.2f}"]
            for w in WAYS]
    print(table(["how", "speed-up (wall)", "CPU s per wall s"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
