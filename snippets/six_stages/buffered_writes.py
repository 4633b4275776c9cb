"""100,000 small writes: unbuffered, each is a system call; buffered, one per buffer."""

from __future__ import annotations

import math
import os
import statistics
import tempfile
from dataclasses import dataclass

from snippets.measure import check_timing, paired_ratios, rounds
from snippets.report import Claim, publish, table
from snippets.syscalls import rw_calls

RECORD = b"a small record.\n"  # 16 bytes
WRITES = 100_000
BUFFER = 8192  # bytes; open() picks a size by itself, we fix it to predict the count


def write_all(path: str, buffering: int) -> int:
    """Write every record; return how many write calls the kernel counted."""
    before = rw_calls()
    with open(path, "wb", buffering=buffering) as file:
        write = file.write
        for _ in range(WRITES):
            write(RECORD)
    after = rw_calls()
    return after[1] - before[1] if before and after else -1


@dataclass
class Writes:
    calls: dict[str, int]  # -1: this kernel doesn't count them
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
    full = math.ceil(WRITES * len(RECORD) / BUFFER)
    out = [Claim("buffered writing is more than 3x faster (median of paired rounds)",
                 f"{w.speedup:.1f}x", w.speedup > 3, timing=True)]
    if w.calls["unbuffered"] < 0:
        return out + [Claim.not_checked(
            "one write() per record unbuffered, one per buffer buffered",
            "the kernel lacks /proc/self/io (task I/O accounting)")]
    return out + [
        Claim(f"unbuffered: exactly one write() per record ({WRITES:,})",
              f"{w.calls['unbuffered']:,}", w.calls["unbuffered"] == WRITES),
        Claim(f"buffered: one write() per full {BUFFER:,}-byte buffer",
              f"{w.calls['buffered']:,} = ceil({WRITES * len(RECORD):,} / "
              f"{BUFFER:,})", w.calls["buffered"] == full)]


def main() -> None:
    checked = check_timing(measure, claims)
    w = checked.result
    base = w.seconds["buffered"]
    print(f"{WRITES:,} writes of {len(RECORD)} bytes to one file")
    rows = [[how, f"{w.calls[how]:,}" if w.calls[how] >= 0 else "not counted",
             f"{w.seconds[how] / base:.1f}"] for how in ("unbuffered", "buffered")]
    print(table(["how", "write() calls", "time / buffered"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
