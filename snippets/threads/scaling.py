"""Waiting work speeds up with every worker; CPU work on processes gains until the
core count and then stops; under the GIL, CPU work on threads never overlaps."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from snippets.measure import check_timing
from snippets.report import Claim, above, below, finding, publish, table
from snippets.svg import line_chart
from snippets.threads._common import (
    build,
    gil_enabled,
    overlap,
    overlapped,
    process_pool,
    usable_cores,
)
from snippets.threads.cpu_bound import calibrate, spin

SERIES = ("I/O, threads", "CPU, threads", "CPU, processes")
IO_GAIN = finding("scaling-io-speedup", "waiting work: {workers} threads finish "
                  "{bound} sooner than one", above(3), unit="x", timing=True)
THREADS = overlap("scaling-threads-overlap", "{build}, {cores} usable cores: "
                  "2 threads sharing the CPU work")
PROCESSES = overlap("scaling-processes-overlap", "{build}, {cores} usable cores: "
                    "2 processes sharing the CPU work")
PAST_CORES = finding("scaling-no-gain-past-cores", "{build}, {cores} usable cores: "
                     "{top} processes finish {bound} sooner than {cores} (no gain "
                     "past the cores)", below(1.5), unit="x", timing=True)


def io_chunk(units: int, delay: float) -> None:
    for _ in range(units):
        time.sleep(delay)


def cpu_chunk(units: int, n: int) -> None:
    for _ in range(units):
        spin(n)


def measure(counts: tuple[int, ...] = (1, 2, 4, 8), units: int = 8,
            unit_seconds: float = 0.006, rounds: int = 3) -> dict:
    """The same `units` split across w workers, every count and series interleaved
    in each round; speed-up = the round's one-worker time / its w-worker time."""
    n, most = calibrate(unit_seconds), max(counts)
    work = {SERIES[0]: partial(io_chunk, delay=unit_seconds),
            SERIES[1]: partial(cpu_chunk, n=n), SERIES[2]: partial(cpu_chunk, n=n)}
    walls = {s: {w: [] for w in counts} for s in SERIES}
    rates = {s: {w: [] for w in counts} for s in SERIES}
    with ThreadPoolExecutor(most) as threads, process_pool(most) as procs:
        pools = dict(zip(SERIES, (threads, threads, procs)))
        for _ in range(rounds):
            for s in SERIES:
                for w in counts:
                    wall, rate, _ = overlapped(pools[s], work[s], [units // w] * w)
                    walls[s][w].append(wall)
                    rates[s][w].append(rate)
    med, one = statistics.median, counts[0]
    speedups = {s: [(w, med(a / b for a, b in zip(walls[s][one], walls[s][w])))
                    for w in counts] for s in SERIES}
    return {"series": speedups, "rates": rates, "walls": walls,
            "cores": usable_cores(), "gil": gil_enabled()}


def claims(r: dict) -> list[Claim]:
    io, cores, rate = r["series"][SERIES[0]], r["cores"], r["rates"]
    where = {"build": build(r["gil"]), "cores": cores}
    walls = r["walls"][SERIES[2]]
    top = max(walls)
    out = [IO_GAIN.of(io[-1][1], workers=io[-1][0]),
           THREADS.of(rate[SERIES[1]][2], not r["gil"] and cores >= 2, **where),
           PROCESSES.of(rate[SERIES[2]][2], cores >= 2, **where)]
    if cores not in walls or top <= cores:
        return out + [PAST_CORES.not_checked(
            f"{cores} usable cores and at most {top} workers: nothing beyond them",
            top=top, **where)]
    gain = statistics.median(a / b for a, b in zip(walls[cores], walls[top]))
    return out + [PAST_CORES.of(gain, top=top, detail="median of paired rounds",
                                **where)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    lines = list(r["series"].values())
    rows = [[w] + [f"{pts[i][1]:.1f}" for pts in lines]
            for i, (w, _) in enumerate(lines[0])]
    print(f"{build()}, {r['cores']} usable cores; speed-up over one worker (wall)")
    print(table(["workers", *SERIES], rows))
    chart = line_chart("Speed-up against workers", "workers", "speed-up (x one worker)",
                       r["series"])
    publish(checked.claims, figures={"speedup": chart})


if __name__ == "__main__":
    main()
