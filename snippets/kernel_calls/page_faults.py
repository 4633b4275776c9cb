"""One mmap call maps the memory; each page then arrives by a page fault, not a call."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from snippets import syscalls
from snippets.kernel_calls import _experiment as experiment
from snippets.report import (
    Claim,
    NotMeasurable,
    at_least,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

PAGES = 256  # 1 MiB: too small for a 2 MiB transparent huge page
CHILD = """import mmap, resource, sys
size, touch = mmap.PAGESIZE, int(sys.argv[1])
memory = mmap.mmap(-1, int(sys.argv[2]) * size)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for page in range(touch):
    memory[page * size] = 1
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


NO_CALLS = finding("touching-makes-no-calls", f"system calls that touching "
                   f"{PAGES} fresh pages adds: " "{bound}", equals(0), unit="calls")
FAULTS = finding("touching-faults", f"minor page faults that touching {PAGES} fresh "
                 "pages adds: {bound}", at_least(PAGES))


@dataclass
class Touched:
    faults: dict[int, int]  # pages touched -> minor page faults meanwhile
    traces: dict[int, syscalls.Trace]  # pages touched -> what the run asked

    def added_calls(self) -> int:
        """Calls made with pages touched and not without, and the other way."""
        idle, busy = self.traces[0].counts, self.traces[PAGES].counts
        return (busy - idle).total() + (idle - busy).total()


def measure() -> Touched:
    """Run the child twice, touching 0 and then PAGES pages, under a tracer."""
    python = os.path.realpath(sys.executable)
    with experiment.same_layout():  # the same argv length too: "000" and "256"
        traces = {n: syscalls.count([python, "-I", "-S", "-c", CHILD, f"{n:03d}",
                                     str(PAGES)]) for n in (0, PAGES)}
    return Touched({n: int(t.stdout) for n, t in traces.items()}, traces)


def claims(t: Touched) -> list[Claim]:
    idle, busy = t.traces[0], t.traces[PAGES]
    return [NO_CALLS.of(t.added_calls(), detail=f"{idle.total} calls untouched, "
                        f"{busy.total} touched"),
            FAULTS.of(t.faults[PAGES] - t.faults[0], detail=f"{t.faults[0]} "
                      f"untouched, {t.faults[PAGES]} touched")]


def main() -> None:
    try:
        t = measure()
    except NotMeasurable as why:
        return publish_unmeasured([NO_CALLS, FAULTS], why)
    print(table(["pages touched", "system calls", "mmap calls",
                 "minor page faults meanwhile"],
                [[n, trace.total, trace.counts["mmap"], t.faults[n]]
                 for n, trace in t.traces.items()]))
    publish(claims(t))


if __name__ == "__main__":
    main()
