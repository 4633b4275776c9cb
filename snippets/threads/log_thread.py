"""A real blocking write (write + fsync) stalls the loop that makes it; handed to a
logging thread through a queue, it stalls only that thread."""

from __future__ import annotations

import os
import queue
import statistics
import tempfile
import threading
import time

from snippets.measure import check_timing
from snippets.report import Claim, above, check, equals, finding, publish, table

RECORD = b"one log record, made durable with fsync\n"
ALL_WRITTEN = check("log-all-written", "records of {ticks} per way missing from the "
                    "file: {bound}", equals(0))
STALL = finding("log-stall-ratio", "a log call stalls the loop {bound} longer inline "
                "than on a logging thread", above(10), unit="x", fmt=".0f",
                timing=True)


def durable_write(fd: int, record: bytes) -> None:
    os.write(fd, record)
    os.fsync(fd)  # blocks until the disk has it (a no-op on tmpfs)


def run_loop(fd: int, ticks: int, log) -> dict:
    """Tick `ticks` times (1 ms of sleep each), logging once per tick; return how
    long each log call took (the stall) and the longest gap between two ticks."""
    stalls, last, gaps = [], time.perf_counter(), []
    for i in range(ticks):
        time.sleep(0.001)
        start = time.perf_counter()
        log(RECORD)
        stalls.append(time.perf_counter() - start)
        gaps.append(start - last)
        last = start
    return {"stall": statistics.median(stalls), "max_gap": max(gaps[1:])}


def inline(fd: int, ticks: int) -> dict:
    return run_loop(fd, ticks, lambda rec: durable_write(fd, rec))


def on_thread(fd: int, ticks: int) -> dict:
    records: queue.SimpleQueue = queue.SimpleQueue()  # put() is C, no Condition

    def writer() -> None:
        while (rec := records.get()) is not None:
            durable_write(fd, rec)

    helper = threading.Thread(target=writer)
    helper.start()
    try:
        return run_loop(fd, ticks, records.put)
    finally:
        records.put(None)
        helper.join(timeout=10)


def measure(ticks: int = 100) -> dict:
    """Both ways on a temporary file on disk (/var/tmp is rarely tmpfs)."""
    folder = "/var/tmp" if os.path.isdir("/var/tmp") else None
    out = {"ticks": ticks}
    for name, way in (("inline", inline), ("logging thread", on_thread)):
        with tempfile.NamedTemporaryFile(dir=folder) as f:
            out[name] = way(f.fileno(), ticks)
            with open(f.name, "rb") as back:
                out[name]["lines"] = back.read().count(b"\n")
    return out


def claims(r: dict) -> list[Claim]:
    a, b, n = r["inline"], r["logging thread"], r["ticks"]
    return [ALL_WRITTEN.of(abs(n - a["lines"]) + abs(n - b["lines"]), ticks=n),
            STALL.of(a["stall"] / b["stall"], detail="medians")]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{r['ticks']} ticks, one write + fsync each")
    print(table(["how", "median stall per log call", "longest gap between ticks"],
                [[how, f"{r[how]['stall'] * 1e3:.3f} ms",
                  f"{r[how]['max_gap'] * 1e3:.1f} ms"]
                 for how in ("inline", "logging thread")]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
