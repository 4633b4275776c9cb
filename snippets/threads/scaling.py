"""Waiting work speeds up with every worker; CPU work stops at the core count."""

from __future__ import annotations

import time
from concurrent.futures import Executor, ThreadPoolExecutor

from snippets.measure import best_of
from snippets.report import Claim, publish, table
from snippets.svg import line_chart
from snippets.threads._common import build, gil_enabled, process_pool, usable_cores
from snippets.threads.cpu_bound import calibrate, spin


def io_chunk(units: int, delay: float) -> None:
    for _ in range(units):
        time.sleep(delay)


def cpu_chunk(units: int, n: int) -> None:
    for _ in range(units):
        spin(n)


def speedups(pool: Executor, chunk, arg, units: int, counts: tuple) -> list:
    """The same `units` of work split across w workers, against w = 1 (best of 2)."""
    times = [best_of(2, lambda w=w: list(pool.map(chunk, [units // w] * w, [arg] * w)))
             for w in counts]
    return [(w, times[0] / t) for w, t in zip(counts, times, strict=True)]


def measure(counts: tuple[int, ...] = (1, 2, 4, 8), units: int = 8,
            unit_seconds: float = 0.01) -> dict:
    n, most = calibrate(unit_seconds), max(counts)
    with ThreadPoolExecutor(most) as threads, process_pool(most) as procs:
        list(procs.map(time.sleep, [0.05] * most))  # start every worker first
        series = {
            "I/O, threads": speedups(threads, io_chunk, unit_seconds, units, counts),
            "CPU, threads": speedups(threads, cpu_chunk, n, units, counts),
            "CPU, processes": speedups(procs, cpu_chunk, n, units, counts),
        }
    return {"series": series, "cores": usable_cores(), "gil": gil_enabled()}


def claims(r: dict) -> list[Claim]:
    io, cpu_t, cpu_p = r["series"].values()
    cores, where = r["cores"], f"{build()}, {r['cores']} usable cores"
    best_t, best_p, top = max(s for _, s in cpu_t), max(s for _, s in cpu_p), io[-1]
    parallel, cap = not r["gil"] and cores >= 2, min(cores, top[0]) * 1.25
    return [
        Claim(f"waiting work: {top[0]} threads give > 3x", f"{top[1]:.1f}x",
              top[1] > 3),
        Claim(f"{where}: CPU threads {'reach' if parallel else 'never reach'} 1.5x",
              f"best {best_t:.2f}x", (best_t > 1.5) == parallel),
        Claim(f"{where}: CPU processes stay under cores x 1.25 = {cap:g}x",
              f"best {best_p:.2f}x", best_p < cap),
    ]


def main() -> None:
    r = measure()
    names, lines = list(r["series"]), list(r["series"].values())
    rows = [[w] + [f"{pts[i][1]:.1f}" for pts in lines]
            for i, (w, _) in enumerate(lines[0])]
    print(f"{build()}, {r['cores']} usable cores; speed-up over one worker")
    print(table(["workers", *names], rows))
    chart = line_chart("Speed-up against workers", "workers", "speed-up (x one worker)",
                       r["series"])
    publish(claims(r), figures={"speedup": chart})


if __name__ == "__main__":
    main()
