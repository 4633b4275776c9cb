"""sleep(t) is a minimum: the kernel never wakes a sleeper early, and wakes it late."""

from __future__ import annotations

import ctypes
import statistics
import time
from dataclasses import dataclass

from snippets.measure import check_timing
from snippets.report import Claim, publish, table

PLAN = [(100_000, 200), (1_000_000, 150), (5_000_000, 20)]  # (nanoseconds, calls)
PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 29, 30  # from <linux/prctl.h>
libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class Sleeps:
    requested_ns: int
    slack_ns: int  # how late the kernel may wake this thread on purpose
    elapsed_ns: list[int]

    @property
    def early(self) -> int:
        return sum(e < self.requested_ns for e in self.elapsed_ns)

    def late_us(self, pick=statistics.median) -> float:
        return (pick(self.elapsed_ns) - self.requested_ns) / 1000


def sleeps(requested: int, calls: int, slack: int | None = None) -> Sleeps:
    """Sleep `calls` times on the clock sleep() itself uses (CLOCK_MONOTONIC)."""
    default = libc.prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)
    if slack is not None:
        libc.prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0)
    try:
        elapsed = []
        for _ in range(calls):
            start = time.monotonic_ns()
            time.sleep(requested / 1e9)
            elapsed.append(time.monotonic_ns() - start)
        return Sleeps(requested, libc.prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), elapsed)
    finally:
        libc.prctl(PR_SET_TIMERSLACK, default, 0, 0, 0)


def measure() -> list[Sleeps]:
    return [sleeps(ns, calls) for ns, calls in PLAN] + [sleeps(1_000_000, 150, 1)]


def claims(results: list[Sleeps]) -> list[Claim]:
    total = sum(len(s.elapsed_ns) for s in results)
    early = sum(s.early for s in results)
    late = sum(e > s.requested_ns for s in results for e in s.elapsed_ns)
    slack, tight = results[1], results[-1]
    return [Claim("no sleep() returned before the time it asked for",
                  f"{early} early of {total} calls", early == 0),
            Claim("every sleep() returned later than it asked for",
                  f"{late} late of {total} calls", late == total),
            Claim("a smaller timer slack makes 1 ms sleeps less late (median)",
                  f"{tight.late_us():.0f} us with {tight.slack_ns} ns slack vs "
                  f"{slack.late_us():.0f} us with {slack.slack_ns:,} ns",
                  tight.late_us() < slack.late_us(), timing=True)]


def main() -> None:
    checked = check_timing(measure, claims)
    results = checked.result
    print(table(["asked", "timer slack", "calls", "returned early", "median late",
                 "most late"], [
        [f"{s.requested_ns / 1e6:g} ms", f"{s.slack_ns:,} ns",
         len(s.elapsed_ns), s.early, f"~{round(s.late_us(), -1):.0f} us",
         f"~{round(s.late_us(max), -1):.0f} us"] for s in results]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
