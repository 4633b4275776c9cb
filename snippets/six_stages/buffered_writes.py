"""100,000 small writes: unbuffered, each is a system call; buffered, one per buffer."""

from __future__ import annotations

import math
import os
import statistics
import tempfile
from dataclasses import dataclass

from snippets.measure import check_timing, paired_ratios, rounds
from snippets.report import Claim, HostForbids, above, equals, finding, publish, table
from snippets.syscalls import rw_calls

RECORD = b"a small record.\n"  # 16 bytes
WRITES = 100_000
BUFFER = 8192  # bytes; open() picks a size by itself, we fix it to predict the count
FULL = math.ceil(WRITES * len(RECORD) / BUFFER)
NO_IO = HostForbids("the kernel lacks /proc/self/io (task I/O accounting), so its "
                    "write calls can't be counted")

SPEEDUP = finding("buffered-speedup", "buffered writing is {bound} faster (median "
                  "of paired rounds)", above(3), unit="x", fmt=".1f", timing=True)
UNBUFFERED = finding("unbuffered-one-call-each", "unbuffered, every record is its "
                     "own write() call: {bound}", equals(WRITES))
BUFFERED = finding("buffered-one-call-per-buffer", "buffered, one write() per full "
                   f"{BUFFER:,}-byte buffer: {{bound}} = ceil({WRITES * len(RECORD):,}"
                   f" / {BUFFER:,})", equals(FULL))


def write_all(path: str, buffering: int) -> int | None:
    """Write every record; return how many write calls the kernel counted (None
    where it does not count them)."""
    before = rw_calls()
    with open(path, "wb", buffering=buffering) as file:
        write = file.write
        for _ in range(WRITES):
            write(RECORD)
    after = rw_calls()
    return after[1] - before[1] if before and after else None


@dataclass
class Writes:
    calls: dict[str, int | None]  # None: this kernel doesn't count them
    seconds: dict[str, float]  # the fastest of 5 interleaved rounds
    speedup: float  # median over the rounds of unbuffered / buffered


def measure() -> Writes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.txt")
        calls = {"unbuffered": write_all(path, 0), "buffered": write_all(path, BUFFER)}
        times = rounds(5, {"unbuffered": lambda: write_all(path, 0),
                           "buffered": lambda: write_all(path, BUFFER)})
    ratio = statistics.median(paired_ratios(times, "unbuffered", "buffered"))
    return Writes(calls, {how: min(t) for how, t in times.items()}, ratio)


def claims(w: Writes) -> list[Claim]:
    counts = [(UNBUFFERED, w.calls["unbuffered"]), (BUFFERED, w.calls["buffered"])]
    return [SPEEDUP.of(w.speedup), *(expect.not_checked(NO_IO) if calls is None
                                     else expect.of(calls) for expect, calls in counts)]


def main() -> None:
    checked = check_timing(measure, claims)
    w = checked.result
    base = w.seconds["buffered"]
    print(f"{WRITES:,} writes of {len(RECORD)} bytes to one file")
    rows = [[how, "not counted" if w.calls[how] is None else f"{w.calls[how]:,}",
             f"{w.seconds[how] / base:.1f}"] for how in ("unbuffered", "buffered")]
    print(table(["how", "write() calls", "time / buffered"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
