"""What a thread costs: starting one takes far longer than a call, and each reserves
a whole stack of address space (VmSize) while touching little of it (VmRSS)."""

from __future__ import annotations

import resource
import statistics
import threading
from pathlib import Path

from snippets.measure import check_timing, rounds
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    at_least,
    below,
    finding,
    publish,
    publish_unmeasured,
    table,
)

MIB = 1 << 20
START = finding("thread-start-cost", "starting and joining a thread takes {bound} "
                "a function call", above(50), unit="x", fmt=".0f", timing=True)
STACKS = finding("stack-mapping-each", "while {threads} threads live, read-write "
                 "mappings of exactly {stack} MiB (RLIMIT_STACK) per thread: "
                 "{bound}", at_least(1))
VMSIZE = finding("vmsize-per-thread", "VmSize grows per thread by {bound} the "
                 "{stack} MiB stack", at_least(0.9), unit="x")
VMRSS = finding("vmrss-per-thread", "VmRSS grows per thread by {bound} the "
                "{stack} MiB stack: reserved, not touched", below(0.1), unit="x")


def status_kib(*fields: str) -> dict[str, int]:
    """Fields of /proc/self/status in KiB (VmSize: address space, VmRSS: resident)."""
    if not Path("/proc/self/maps").is_file():
        raise NotMeasurable("no /proc here (Linux shows a process's memory there)")
    lines = Path("/proc/self/status").read_text().splitlines()
    found = dict(line.split(":", 1) for line in lines if ":" in line)
    return {f: int(found[f].split()[0]) for f in fields}


def mappings(kib: int) -> int:
    """How many read-write mappings of exactly `kib` KiB this process has."""
    def size(line: str) -> int:
        start, end = line.split()[0].split("-")
        return (int(end, 16) - int(start, 16)) >> 10
    maps = Path("/proc/self/maps").read_text().splitlines()
    return sum(line.split()[1] == "rw-p" and size(line) == kib for line in maps)


def nothing() -> None:
    pass


def start_join() -> None:
    t = threading.Thread(target=nothing)
    t.start()
    t.join(timeout=5)


def memory(threads: int, stack_kib: int) -> dict[str, float]:
    """MiB of VmSize and VmRSS each live, idle thread adds, and how many mappings
    the size of a default stack exist while they live."""
    stop = threading.Event()
    before = status_kib("VmSize", "VmRSS")
    alive = [threading.Thread(target=stop.wait, args=(5,)) for _ in range(threads)]
    try:
        for t in alive:
            t.start()
        during = status_kib("VmSize", "VmRSS")
        stacks = mappings(stack_kib)
    finally:
        stop.set()
        for t in alive:
            t.join(timeout=5)
    grown = {f: (during[f] - before[f]) / 1024 / threads for f in before}
    return grown | {"stacks": stacks}


def measure(threads: int = 100, calls: int = 200, repeats: int = 5) -> dict:
    times = rounds(repeats, {"call": lambda: [nothing() for _ in range(calls)],
                             "thread": lambda: [start_join() for _ in range(calls)]})
    ratio = statistics.median(t / c for t, c in zip(times["thread"], times["call"]))
    soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
    stack = None if soft == resource.RLIM_INFINITY else soft / MIB
    return {"threads": threads, "ratio": ratio, "stack_mib": stack,
            "per_thread": memory(threads, int((stack or 0) * 1024))}


def claims(r: dict) -> list[Claim]:
    n, stack, grown = r["threads"], r["stack_mib"], r["per_thread"]
    start = START.of(r["ratio"], detail="median of paired rounds")
    if stack is None:
        why = "RLIMIT_STACK is unlimited here: no limit sets a thread's stack size"
        return [start] + [e.not_checked(why, threads=n)
                          for e in (STACKS, VMSIZE, VMRSS)]
    mib = f"{stack:g}"
    return [start,
            STACKS.of(grown["stacks"] / n, threads=n, stack=mib,
                      detail=f"{grown['stacks']} mappings"),
            VMSIZE.of(grown["VmSize"] / stack, stack=mib,
                      detail=f"+{grown['VmSize']:.2f} MiB per thread"),
            VMRSS.of(grown["VmRSS"] / stack, stack=mib,
                     detail=f"+{grown['VmRSS']:.3f} MiB per thread")]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured([START, STACKS, VMSIZE, VMRSS], why)
    r, grown = checked.result, checked.result["per_thread"]
    print(f"{r['threads']} idle threads; stack limit "
          f"{r['stack_mib'] or 'unlimited'} MiB")
    print(table(["cost per thread", "value"], [
        ["stack-sized mappings while alive", grown["stacks"]],
        ["start + join / a call", f"{r['ratio']:.0f}x"],
        ["VmSize (address space)", f"{grown['VmSize']:.2f} MiB"],
        ["VmRSS (resident memory)", f"{grown['VmRSS']:.3f} MiB"]]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
