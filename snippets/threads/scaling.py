"""Waiting work speeds up with every worker; CPU work on processes gains until the
core count and then stops; under the GIL, CPU work on threads never overlaps."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.svg import line_chart
from snippets.threads._common import (
    build,
    gil_enabled,
    overlap_claim,
    overlapped,
    process_pool,
    usable_cores,
)
from snippets.threads.cpu_bound import calibrate, spin

SERIES = ("I/O, threads", "CPU, threads", "CPU, processes")


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
                    wall, rate = overlapped(pools[s], work[s], [units // w] * w)
                    walls[s][w].append(wall)
                    rates[s][w].append(rate)
    med, one = statistics.median, counts[0]
    speedups = {s: [(w, med(a / b for a, b in zip(walls[s][one], walls[s][w])))
                    for w in counts] for s in SERIES}
    return {"series": speedups, "rates": rates, "walls": walls,
            "cores": usable_cores(), "gil": gil_enabled()}


def claims(r: dict) -> list[Claim]:
    io, cores, where = r["series"][SERIES[0]], r["cores"], f"{build()}, {r['cores']}"
    rate = r["rates"]
    walls = r["walls"][SERIES[2]]
    top = max(walls)
    out = [Claim(f"waiting work: {io[-1][0]} threads finish > 3x sooner than one",
                 f"{io[-1][1]:.1f}x", io[-1][1] > 3, timing=True),
           overlap_claim(f"{where} usable cores: 2 threads of CPU work",
                         rate[SERIES[1]][2], parallel=not r["gil"] and cores >= 2),
           overlap_claim(f"{where} usable cores: 2 processes", rate[SERIES[2]][2],
                         parallel=cores >= 2)]
    if cores not in walls or top <= cores:
        return out + [Claim.not_checked(
            "processes stop gaining at the number of cores",
            f"{cores} usable cores and at most {top} workers: nothing beyond them")]
    gain = statistics.median(a / b for a, b in zip(walls[cores], walls[top]))
    return out + [Claim(f"{where} usable cores: {top} processes finish < 1.5x sooner "
                        f"than {cores} (no gain past the cores)", f"{gain:.2f}x",
                        gain < 1.5, timing=True)]


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
