"""A system call pays a trip into the kernel and back; a vDSO call never enters it."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from snippets import measure as timing
from snippets import syscalls
from snippets.report import Claim, publish, table

CALLS = 1000  # per traced run
BATCH = 2000  # calls per timed batch
VDSO_CLOCKS = {"tsc", "kvm-clock", "hyperv_clocksource_tsc_page", "arch_sys_counter"}
SOURCE = Path("/sys/devices/system/clocksource/clocksource0/current_clocksource")
CHILD = """import os, sys, time
for _ in range(int(sys.argv[1])): os.getppid(); time.monotonic()
"""


def plain() -> int:
    return 0


SYSCALL, VDSO = "os.getppid() (a syscall)", "time.monotonic() (vDSO)"
VARIANTS = {"a plain Python function": plain, SYSCALL: os.getppid,
            VDSO: time.monotonic}


def batch(fn):
    def run() -> None:  # the same loop around each: only the call differs
        for _ in range(BATCH):
            fn()
    return run


def counted() -> dict[int, syscalls.Trace] | str:
    """Trace a Python making 0 and CALLS calls of each: {calls: trace}, or why not."""
    python = os.path.realpath(sys.executable)
    try:
        return {n: syscalls.count([python, "-I", "-S", "-c", CHILD, str(n)])
                for n in (0, CALLS)}
    except syscalls.NotMeasured as why:
        return str(why)


def measure(rounds: int = 21) -> dict:
    times = timing.rounds(rounds, {k: batch(f) for k, f in VARIANTS.items()})
    source = SOURCE.read_text().strip() if SOURCE.is_file() else "unknown"
    return {"clock": time.get_clock_info("monotonic").implementation,
            "ns": {k: statistics.median(v) / BATCH * 1e9 for k, v in times.items()},
            "ratio": {k: statistics.median(timing.paired_ratios(times, SYSCALL, k))
                      for k in VARIANTS},
            "traces": counted(), "clocksource": source}


def claims(result: dict) -> list[Claim]:
    ratio, traces = result["ratio"], result["traces"]
    out = [Claim("os.getppid() takes over 2x a plain Python function call",
                 f"{ratio['a plain Python function']:.1f}x",
                 ratio["a plain Python function"] > 2, timing=True),
           Claim("os.getppid() takes over 1.3x time.monotonic()",
                 f"{ratio[VDSO]:.1f}x", ratio[VDSO] > 1.3, timing=True)]
    both = ("each os.getppid() is one getppid syscall",
            "time.monotonic() makes no clock_gettime syscall (vDSO)")
    if isinstance(traces, str):
        return out + [Claim.not_checked(s, traces) for s in both]
    extra = {k: traces[CALLS].counts[k] - traces[0].counts[k]
             for k in ("getppid", "clock_gettime")}
    out.append(Claim(both[0], f"{CALLS} calls: {extra['getppid']} more getppid",
                     extra["getppid"] == CALLS))
    evidence = f"{CALLS} calls: {extra['clock_gettime']} more clock_gettime"
    if extra["clock_gettime"] and result["clocksource"] not in VDSO_CLOCKS:
        return out + [Claim.not_checked(both[1], f"clock source {result['clocksource']}"
                                        " has no vDSO read here", evidence)]
    return out + [Claim(both[1], evidence, extra["clock_gettime"] == 0)]


def main() -> None:
    checked = timing.check_timing(measure, claims)
    result = checked.result
    print(table(["one call of", "ns per call (median)", "getppid takes"],
                [[k, round(ns), f"{result['ratio'][k]:.1f}x"]
                 for k, ns in result["ns"].items()]))
    traces = result["traces"]
    if not isinstance(traces, str):
        print(f"\ntraced, {CALLS} calls of each vs none: " + ", ".join(
            f"{k} +{traces[CALLS].counts[k] - traces[0].counts[k]}"
            for k in ("getppid", "clock_gettime")))
    print(f"time.monotonic() calls {result['clock']}; "
          f"clock source: {result['clocksource']}")
    publish(checked.claims)


if __name__ == "__main__":
    main()
