"""100,000 small writes: unbuffered, each is a system call; buffered, one per buffer."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass

from snippets.measure import best_of
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
    seconds: dict[str, float]  # best of 5


def measure() -> Writes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.txt")
        calls = {"unbuffered": write_all(path, 0), "buffered": write_all(path, BUFFER)}
        seconds = {how: best_of(5, lambda b=buffering: write_all(path, b))
                   for how, buffering in (("unbuffered", 0), ("buffered", BUFFER))}
    return Writes(calls, seconds)


def claims(w: Writes) -> list[Claim]:
    full = math.ceil(WRITES * len(RECORD) / BUFFER)
    speedup = w.seconds["unbuffered"] / w.seconds["buffered"]
    out = [Claim("buffered writing is more than 2x faster",
                 f"{speedup:.1f}x", speedup > 2)]
    if w.calls["unbuffered"] < 0:
        return out + [Claim("not counted here: the kernel lacks /proc/self/io "
                            "(task I/O accounting)", "no counts", True)]
    return out + [
        Claim(f"unbuffered: exactly one write() per record ({WRITES:,})",
              f"{w.calls['unbuffered']:,}", w.calls["unbuffered"] == WRITES),
        Claim(f"buffered: one write() per full {BUFFER:,}-byte buffer",
              f"{w.calls['buffered']:,} = ceil({WRITES * len(RECORD):,} / "
              f"{BUFFER:,})", w.calls["buffered"] == full)]


def main() -> None:
    w = measure()
    base = w.seconds["buffered"]
    print(f"{WRITES:,} writes of {len(RECORD)} bytes to one file")
    rows = [[how, f"{w.calls[how]:,}" if w.calls[how] >= 0 else "not counted",
             f"{w.seconds[how] / base:.1f}"] for how in ("unbuffered", "buffered")]
    print(table(["how", "write() calls", "time / buffered"], rows))
    publish(claims(w))


if __name__ == "__main__":
    main()
