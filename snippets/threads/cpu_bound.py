"""Pure-Python CPU work: with the GIL two threads don't help, two processes do."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import best_of, timed
from snippets.report import Claim, publish, table
from snippets.threads._common import (
    build,
    gil_enabled,
    process_pool,
    ratio_claim,
    usable_cores,
)


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i % 7
    return total


def calibrate(seconds: float) -> int:
    """Loop count for `spin` to take about `seconds` when the machine is quiet."""
    n = 100_000
    return int(n * seconds / best_of(3, lambda: spin(n)))


@dataclass(frozen=True)
class CpuResult:
    tasks: int
    cores: int
    gil: bool
    sequential: float
    threads: float
    processes: float


def measure(tasks: int = 2, seconds: float = 0.2, rounds: int = 2) -> CpuResult:
    """Best of interleaved rounds, so a busy neighbour hurts every way alike."""
    n, seq, thr, proc = calibrate(seconds), [], [], []
    with ThreadPoolExecutor(tasks) as threads, process_pool(tasks) as procs:
        list(procs.map(time.sleep, [0.05] * tasks))  # start every worker first
        for _ in range(rounds):
            seq.append(timed(lambda: [spin(n) for _ in range(tasks)])[0])
            thr.append(timed(lambda: list(threads.map(spin, [n] * tasks)))[0])
            proc.append(timed(lambda: list(procs.map(spin, [n] * tasks)))[0])
    return CpuResult(tasks, usable_cores(), gil_enabled(), min(seq), min(thr),
                     min(proc))


def claims(r: CpuResult) -> list[Claim]:
    where = f"{build()}, {r.cores} usable cores: {r.tasks}"
    return [
        ratio_claim(f"{where} threads", r.threads / r.sequential,
                    parallel=not r.gil and r.cores >= 2),
        ratio_claim(f"{where} processes", r.processes / r.sequential,
                    parallel=r.cores >= 2),
    ]


def main() -> None:
    r = measure()
    print(f"{build()}, {r.cores} usable cores; {r.tasks} tasks")
    rows = [["sequential", 1.0], [f"{r.tasks} threads", r.threads / r.sequential],
            [f"{r.tasks} processes", r.processes / r.sequential]]
    print(table(["how", "time / sequential"], [[h, f"{x:.2f}"] for h, x in rows]))
    publish(claims(r))


if __name__ == "__main__":
    main()
