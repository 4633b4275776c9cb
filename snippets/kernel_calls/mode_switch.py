"""A system call pays a trip into the kernel and back; a clock read in the vDSO,
where the clock source allows it, never enters the kernel."""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from snippets import measure as timing
from snippets import syscalls
from snippets.report import Claim, NotMeasurable, above, equals, finding, publish, table

CALLS = 1000  # per traced run
BATCH = 2000  # calls per timed batch
VDSO_CLOCKS = {"tsc", "kvm-clock", "hyperv_clocksource_tsc_page", "arch_sys_counter"}
SOURCE = Path("/sys/devices/system/clocksource/clocksource0/current_clocksource")
CHILD = """import os, sys, time
for _ in range(int(sys.argv[1])): os.getppid(); time.monotonic()
"""


def plain() -> int:
    return 0


FUNCTION = "a plain Python function"
SYSCALL, VDSO = "os.getppid() (a syscall)", "time.monotonic() (vDSO)"
VARIANTS = {FUNCTION: plain, SYSCALL: os.getppid, VDSO: time.monotonic}

OVER_FUNCTION = finding("syscall-vs-function", "os.getppid() takes {bound} a plain "
                        "Python function call", above(2), unit="x", fmt=".1f",
                        timing=True)
OVER_VDSO = finding("syscall-vs-vdso", "os.getppid() takes {bound} "
                    "time.monotonic()", above(1.3), unit="x", fmt=".1f", timing=True)
GETPPID = finding("getppid-is-a-syscall", f"getppid calls traced for {CALLS} more "
                  "os.getppid(): {bound}", equals(CALLS))
IN_VDSO = finding("monotonic-in-vdso", f"clock_gettime calls traced for {CALLS} more "
                  "time.monotonic(): {bound}", equals(0))


@dataclass
class Switch:
    clock: str  # what time.monotonic() calls
    clocksource: str  # the kernel's clock source: a vDSO read needs one it can read
    ns: dict[str, float]  # median ns per call
    ratio: dict[str, float]  # median of paired ratios: getppid / this
    traced: dict[int, syscalls.Trace] | NotMeasurable  # calls -> trace, or why not

    def more(self, name: str) -> int:
        return self.traced[CALLS].counts[name] - self.traced[0].counts[name]


def batch(fn):
    def run() -> None:  # the same loop around each: only the call differs
        for _ in range(BATCH):
            fn()
    return run


def counted() -> dict[int, syscalls.Trace] | NotMeasurable:
    """Trace a Python making 0 and CALLS calls of each: {calls: trace}, or why not."""
    python = os.path.realpath(sys.executable)
    try:
        return {n: syscalls.count([python, "-I", "-S", "-c", CHILD, str(n)])
                for n in (0, CALLS)}
    except NotMeasurable as why:
        return why


def measure(rounds: int = 21) -> Switch:
    times = timing.rounds(rounds, {k: batch(f) for k, f in VARIANTS.items()})
    return Switch(time.get_clock_info("monotonic").implementation,
                  SOURCE.read_text().strip() if SOURCE.is_file() else "unknown",
                  {k: statistics.median(v) / BATCH * 1e9 for k, v in times.items()},
                  {k: statistics.median(timing.paired_ratios(times, SYSCALL, k))
                   for k in VARIANTS}, counted())


def claims(s: Switch) -> list[Claim]:
    out = [OVER_FUNCTION.of(s.ratio[FUNCTION]), OVER_VDSO.of(s.ratio[VDSO])]
    if isinstance(s.traced, NotMeasurable):
        return out + [GETPPID.not_checked(s.traced), IN_VDSO.not_checked(s.traced)]
    out.append(GETPPID.of(s.more("getppid")))
    if s.more("clock_gettime") and s.clocksource not in VDSO_CLOCKS:
        return out + [IN_VDSO.not_checked(f"clock source {s.clocksource} has no vDSO "
                                          "read here")]
    return out + [IN_VDSO.of(s.more("clock_gettime"))]


def main() -> None:
    checked = timing.check_timing(measure, claims)
    s = checked.result
    print(table(["one call of", "ns per call (median)", "getppid takes"],
                [[k, round(ns), f"{s.ratio[k]:.1f}x"] for k, ns in s.ns.items()]))
    if not isinstance(s.traced, NotMeasurable):
        print(f"\ntraced, {CALLS} calls of each vs none: " + ", ".join(
            f"{k} +{s.more(k)}" for k in ("getppid", "clock_gettime")))
    print(f"time.monotonic() calls {s.clock}; clock source: {s.clocksource}")
    publish(checked.claims)


if __name__ == "__main__":
    main()
