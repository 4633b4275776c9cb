"""The instrument first: a C loop of 23 getppid() calls is counted as exactly 23."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from snippets import syscalls
from snippets.kernel_calls import _experiment as experiment
from snippets.report import (
    Claim,
    MissingPackage,
    MissingTool,
    NotMeasurable,
    check,
    equals,
    publish,
    publish_unmeasured,
    table,
)

SOURCE = """#include <unistd.h>
int main(void) { for (int i = 0; i < N; i++) getppid(); }
"""
CALLS = 23
COUNTS = {method: check(f"{method}-counts-loop", f"what {method} counts for "
                        f"{CALLS} more getppid() calls (getppid calls added, calls "
                        "added in all): {bound}", equals((CALLS, CALLS)))
          for method in ("ptrace", "strace")}
AGREE = check("counters-agree", "how far the two methods' totals differ: {bound}",
              equals(0), unit="calls")
MISSING = {"ptrace": MissingPackage("python-ptrace"),
           "strace": MissingTool("strace is not installed (apt-get install strace)")}

Traces = dict[str, dict[int, syscalls.Trace]]  # method -> loop length -> trace


def measure() -> Traces:
    """Count a 0-call and a 23-call build with every method installed here."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise MissingTool("no C compiler (apt-get install gcc)")
    if not syscalls.methods():
        raise MissingTool(f"no syscall counter on this machine: {syscalls.INSTALL}")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "loop.c").write_text(SOURCE)
        for n in (0, CALLS):
            subprocess.run([gcc, "-O0", f"-DN={n}", "-o", f"loop{n}", "loop.c"],
                           cwd=folder, check=True, timeout=60)
        return {m: {n: syscalls.count([f"{folder}/loop{n}"], method=m)
                    for n in (0, CALLS)} for m in syscalls.methods()}


def claims(traced: Traces) -> list[Claim]:
    out = []
    for method, expectation in COUNTS.items():
        if method not in traced:
            out.append(expectation.not_checked(MISSING[method]))
            continue
        zero, full = traced[method][0], traced[method][CALLS]
        out.append(expectation.of((full.counts["getppid"] - zero.counts["getppid"],
                                   full.total - zero.total)))
    totals = [t[CALLS].total for t in traced.values()]
    missing = next((MISSING[m] for m in COUNTS if m not in traced), None)
    out.append(AGREE.not_checked(missing) if missing else
               AGREE.of(abs(totals[0] - totals[1]),
                        detail=" vs ".join(map(str, totals))))
    return experiment.grouped(out)


def main() -> None:
    try:
        traced = measure()
    except NotMeasurable as why:
        return publish_unmeasured([*COUNTS.values(), AGREE], why)
    print(table(["counted with", "getppid (N=0)", f"getppid (N={CALLS})",
                 "total (N=0)", f"total (N={CALLS})"],
                [[syscalls.counter_name(m), t[0].counts["getppid"],
                  t[CALLS].counts["getppid"], t[0].total, t[CALLS].total]
                 for m, t in traced.items()]))
    publish(claims(traced))


if __name__ == "__main__":
    main()
