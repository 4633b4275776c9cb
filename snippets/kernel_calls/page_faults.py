"""One mmap call maps the memory; each page then arrives by a page fault, not a call."""

from __future__ import annotations

import os
import sys

from snippets import syscalls
from snippets.report import Claim, publish, table

PAGES = 256  # 1 MiB: too small for a 2 MiB transparent huge page
CHILD = """import mmap, resource, sys
size, touch = mmap.PAGESIZE, int(sys.argv[1])
memory = mmap.mmap(-1, int(sys.argv[2]) * size)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for page in range(touch):
    memory[page * size] = 1
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def measure() -> dict[int, tuple[int, syscalls.Trace]] | str:
    """{pages touched: (minor page faults meanwhile, trace)} for 0 and PAGES."""
    python = os.path.realpath(sys.executable)
    try:
        traces = {n: syscalls.count([python, "-I", "-S", "-c", CHILD, str(n),
                                     str(PAGES)]) for n in (0, PAGES)}
    except syscalls.NotMeasured as why:
        return str(why)
    return {n: (int(t.stdout), t) for n, t in traces.items()}


def claims(result) -> list[Claim]:
    statements = (f"touching {PAGES} fresh pages makes no system call",
                  f"touching {PAGES} fresh pages takes at least {PAGES} page faults")
    if isinstance(result, str):
        return [Claim.not_checked(s, result) for s in statements]
    (faults0, idle), (faults, busy) = result[0], result[PAGES]
    return [Claim(statements[0], f"{idle.total} calls untouched, {busy.total} touched;"
                  f" mmap {idle.counts['mmap']} = {busy.counts['mmap']}",
                  busy.counts == idle.counts),
            Claim(statements[1], f"{faults0} untouched, {faults} touched",
                  faults >= PAGES > faults0)]


def main() -> None:
    result = measure()
    if isinstance(result, str):
        print(f"not checked here: {result}")
    else:
        print(table(["pages touched", "system calls", "mmap calls",
                     "minor page faults meanwhile"],
                    [[n, t.total, t.counts["mmap"], faults]
                     for n, (faults, t) in result.items()]))
    publish(claims(result))


if __name__ == "__main__":
    main()
