"""On data.txt C makes open, read, close; each runtime asks more, in its own way."""

from __future__ import annotations

import sys

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table

STATS = {"fstat", "newfstatat", "statx"}
SIZE = len(experiment.DATA)
BEFORE_314 = ["openat", "stat", "ioctl(TCGETS)", "lseek", "lseek", "stat", "read",
              "read", "close"]  # CPython 3.11 to 3.13 (gh-120754 lists the same)


def plain(calls: list[str]) -> list[str]:
    return ["stat" if name in STATS else name for name in calls]


def reads(trace) -> list[int]:
    """What each read of data.txt returned, in bytes."""
    pairs = zip(trace.file_calls, trace.file_results)
    return [n for call, n in pairs if call == "read"]


def python_claim(trace, version=sys.version_info) -> Claim:
    """The calls of open().read() depend on the version of CPython traced."""
    calls = plain(trace.file_calls)
    if version < (3, 14):
        return Claim(f"python3 {version[0]}.{version[1]}: open().read() makes "
                     f"{len(BEFORE_314)} calls, isatty's ioctl(TCGETS) among them, "
                     "and the last read returns 0", " ".join(calls),
                     calls == BEFORE_314 and reads(trace) == [SIZE, 0])
    return Claim(f"python3 {version[0]}.{version[1]}: open() skips isatty's "
                 "ioctl(TCGETS) on a regular file and stats it once (gh-90102)",
                 " ".join(calls), "ioctl(TCGETS)" not in calls
                 and calls.count("stat") == 1 and reads(trace)[-1:] == [0])


def claims(rows: list[experiment.Row]) -> list[Claim]:
    done = {r.program.label: r.trace for r in rows if r.trace}
    closes = {k: t.file_calls.count("close") for k, t in done.items()}
    out = [Claim("every traced program opens data.txt once and closes it once",
                 ", ".join(f"{k} {n}" for k, n in closes.items()),
                 all(t.file_calls[:1] == ["openat"] and closes[k] == 1
                     for k, t in done.items()))] if done else []
    for label, trace in done.items():
        calls, got = plain(trace.file_calls), reads(trace)
        if label.startswith("C "):
            out.append(Claim(f"{label}: openat, read, close and nothing else",
                             " ".join(calls), calls == ["openat", "read", "close"]))
        elif label == "python3":
            out.append(python_claim(trace))
        elif label == "node":
            out.append(Claim("node: stats data.txt, then one read returns all of it",
                             f"{' '.join(calls)}; read returned {got}",
                             calls == ["openat", "stat", "read", "close"]
                             and got == [SIZE]))
        elif label == "bun":
            out.append(Claim("bun: no stat; reads until a read returns 0 (the end)",
                             f"{' '.join(calls)}; reads returned {got}",
                             "stat" not in calls and len(got) >= 2
                             and got[-1] == 0 and sum(got) == SIZE))
    return out + experiment.unmeasured_claims(rows, "calls on data.txt")


def main() -> None:
    rows = experiment.measure()
    cells = [[r.program.label, len(r.trace.file_calls), " ".join(r.trace.file_calls),
              " ".join(map(str, reads(r.trace)))] for r in rows if r.trace]
    if cells:
        print(table(["program", "calls", "the calls on data.txt, in order",
                     "reads returned"], cells))
    for line in experiment.not_measured(rows):
        print(line)
    publish(claims(rows))


if __name__ == "__main__":
    main()
