"""What a thread costs: starting one takes far longer than a call, and each reserves
a whole stack of address space (VmSize) while touching little of it (VmRSS)."""

from __future__ import annotations

import resource
import statistics
import threading
from pathlib import Path

from snippets.measure import check_timing, rounds
from snippets.report import Claim, publish, table

MIB = 1 << 20


def status_kib(*fields: str) -> dict[str, int]:
    """Fields of /proc/self/status in KiB (VmSize: address space, VmRSS: resident)."""
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
    size, rss = grown["VmSize"], grown["VmRSS"]
    out = [Claim("starting and joining a thread takes > 50x a function call",
                 f"{r['ratio']:.0f}x (median of paired rounds)", r["ratio"] > 50,
                 timing=True)]
    if stack is None:
        return out + [Claim.not_checked("each thread maps a stack of RLIMIT_STACK",
                                        "RLIMIT_STACK is unlimited here")]
    return out + [
        Claim(f"while {n} threads live, >= {n} read-write mappings of exactly "
              f"{stack:g} MiB (RLIMIT_STACK) exist: a stack each",
              f"{grown['stacks']}", grown["stacks"] >= n),
        Claim(f"VmSize grows by at least 0.9x the {stack:g} MiB stack per thread",
              f"+{size:.2f} MiB per thread", size >= 0.9 * stack),
        Claim("VmRSS grows by < 1/10 of the stack per thread: reserved, not touched",
              f"+{rss:.3f} MiB per thread", rss < stack / 10)]


def main() -> None:
    if not Path("/proc/self/maps").is_file():
        print("not checked here: no /proc (Linux shows memory maps there)")
        return publish([Claim.not_checked("what a thread costs", "no /proc here")])
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{r['threads']} idle threads; stack limit "
          f"{r['stack_mib'] or 'unlimited'} MiB")
    print(table(["cost per thread", "value"], [
        [f"mappings of {r['stack_mib']:g} MiB while alive",
         r["per_thread"]["stacks"]] if r["stack_mib"] else ["stack mappings", "-"],
        ["start + join / a call", f"{r['ratio']:.0f}x"],
        ["VmSize (address space)", f"{r['per_thread']['VmSize']:.2f} MiB"],
        ["VmRSS (resident memory)", f"{r['per_thread']['VmRSS']:.3f} MiB"]]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
