"""The instrument first: a C loop of 23 getppid() calls is counted as exactly 23."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from snippets import syscalls
from snippets.report import Claim, publish, table

SOURCE = """#include <unistd.h>
int main(void) { for (int i = 0; i < N; i++) getppid(); }
"""
CALLS = 23


@dataclass
class Calibration:
    method: str
    traces: dict[int, syscalls.Trace]  # loop length -> trace


def measure() -> tuple[list[Calibration], str]:
    """Count a 0-call and a 23-call build with every method installed here."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return [], "no C compiler (apt-get install gcc)"
    if not syscalls.methods():
        return [], f"no syscall counter: {syscalls.INSTALL}"
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "loop.c").write_text(SOURCE)
        for n in (0, CALLS):
            subprocess.run([gcc, "-O0", f"-DN={n}", "-o", f"loop{n}", "loop.c"],
                           cwd=folder, check=True, timeout=60)
        try:
            return [Calibration(m, {n: syscalls.count([f"{folder}/loop{n}"], method=m)
                                    for n in (0, CALLS)})
                    for m in syscalls.methods()], ""
        except syscalls.NotMeasured as why:
            return [], str(why)


def claims(result: tuple[list[Calibration], str]) -> list[Claim]:
    if result[1]:
        return [Claim.not_checked(f"{CALLS} getppid() calls counted as {CALLS}",
                                  result[1])]
    out = []
    for cal in result[0]:
        zero, full = cal.traces[0], cal.traces[CALLS]
        out.append(Claim(f"{cal.method}: {CALLS} getppid() calls counted as {CALLS}, "
                         "and nothing else changed",
                         f"getppid {zero.counts['getppid']} -> "
                         f"{full.counts['getppid']}, total {zero.total} -> "
                         f"{full.total}", zero.counts["getppid"] == 0
                         and full.counts["getppid"] == CALLS
                         and full.total - zero.total == CALLS))
    if len(result[0]) > 1:
        totals = [cal.traces[CALLS].total for cal in result[0]]
        out.append(Claim("both methods give the same total",
                         " = ".join(map(str, totals)), len(set(totals)) == 1))
    return out


def main() -> None:
    cals, reason = measure()
    if cals:
        print(table(["counted with", "getppid (N=0)", f"getppid (N={CALLS})",
                     "total (N=0)", f"total (N={CALLS})"],
                    [[syscalls.counter_name(c.method), c.traces[0].counts["getppid"],
                      c.traces[CALLS].counts["getppid"], c.traces[0].total,
                      c.traces[CALLS].total] for c in cals]))
    else:
        print(f"not checked here: {reason}")
    publish(claims((cals, reason)))


if __name__ == "__main__":
    main()
