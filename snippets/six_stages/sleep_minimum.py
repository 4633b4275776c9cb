"""sleep(t) is a minimum: the kernel never wakes a sleeper early, and wakes it late."""

from __future__ import annotations

import ctypes
import statistics
import time
from dataclasses import dataclass

from snippets.measure import check_timing
from snippets.report import Claim, below, equals, finding, publish, table

PLAN = [(100_000, 200), (1_000_000, 150), (5_000_000, 20)]  # (nanoseconds, calls)
PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 29, 30  # from <linux/prctl.h>
libc = ctypes.CDLL(None, use_errno=True)

NEVER_EARLY = finding("sleep-never-early", "no sleep() returned before the time it "
                      "asked for: {bound} early of {calls} calls", equals(0))
ALWAYS_LATE = finding("sleep-always-late", "every sleep() returned later than it "
                      "asked for: {bound} of {calls} calls came back on time or "
                      "sooner", equals(0))
SLACK = finding("slack-shrinks-lateness", "1 ns of timer slack instead of "
                "{default:,} ns makes 1 ms sleeps less late: median lateness "
                "{bound} as much", below(1), unit="x", fmt=".2f", timing=True)


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
    not_late = sum(e <= s.requested_ns for s in results for e in s.elapsed_ns)
    default, tight = results[1], results[-1]  # both 1 ms; the last with 1 ns slack
    return [NEVER_EARLY.of(early, calls=total),
            ALWAYS_LATE.of(not_late, calls=total),
            SLACK.of(tight.late_us() / default.late_us(), default=default.slack_ns,
                     detail=f"{tight.late_us():.0f} us vs {default.late_us():.0f} us")]


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
