"""On data.txt C makes open, read, close; each runtime asks more, in its own way."""

from __future__ import annotations

import sys

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, Expectation, equals, finding, publish, table

STATS = {"fstat", "newfstatat", "statx"}
SIZE = len(experiment.DATA)
# what open().read() asks of a regular file: CPython 3.11 to 3.13 (gh-120754 lists
# the same nine), and 3.14, which skips isatty() when the stat taken at open shows no
# character device (gh-90102) and stats once (gh-120754; CPython's own
# test_fileio.test_syscalls_read expects these counts)
BEFORE_314 = ("openat", "stat", "ioctl(TCGETS)", "lseek", "lseek", "stat", "read",
              "read", "close")
FROM_314 = ("openat", "stat", "lseek", "read", "read", "close")
PYTHON = BEFORE_314 if sys.version_info < (3, 14) else FROM_314
VERSION = "python3 {}.{}".format(*sys.version_info[:2])


def calls_of(key: str, name: str, calls: tuple[str, ...]) -> Expectation:
    return finding(f"{key}-file-calls", name + "'s calls on data.txt, in order: "
                   "{bound}", equals(calls))


def reads_of(key: str, name: str, returned: tuple[int, ...]) -> Expectation:
    return finding(f"{key}-reads", f"what each read of data.txt returns to {name}: "
                   "{bound}", equals(returned), unit="bytes")


OPEN_READ_CLOSE = ("openat", "read", "close")
CALLS = {"C static": calls_of("c-static", "C static", OPEN_READ_CLOSE),
         "C dynamic": calls_of("c-dynamic", "C dynamic", OPEN_READ_CLOSE),
         "python3": calls_of("python", VERSION, PYTHON),
         "node": calls_of("node", "node", ("openat", "stat", "read", "close")),
         "bun": calls_of("bun", "bun", ("openat", "read", "read", "close"))}
READS = {"python3": reads_of("python", VERSION, (SIZE, 0)),
         "node": reads_of("node", "node", (SIZE,)),
         "bun": reads_of("bun", "bun", (SIZE, 0))}
ISATTY = {"python3": finding("python-isatty", "isatty() calls (ioctl TCGETS) that "
                             + VERSION + "'s open() makes on a regular file: {bound}",
                             equals(PYTHON.count("ioctl(TCGETS)")))}


def plain(calls: list[str]) -> tuple[str, ...]:
    return tuple("stat" if name in STATS else name for name in calls)


def reads(trace) -> tuple[int, ...]:
    """What each read of data.txt returned, in bytes."""
    pairs = zip(trace.file_calls, trace.file_results)
    return tuple(n for call, n in pairs if call == "read")


def claims(rows: list[experiment.Row]) -> list[Claim]:
    return experiment.grouped([
        *experiment.per_program(CALLS, rows, lambda t: plain(t.file_calls)),
        *experiment.per_program(ISATTY, rows,
                                lambda t: t.file_calls.count("ioctl(TCGETS)")),
        *experiment.per_program(READS, rows, reads)])


def main() -> None:
    rows = experiment.measure()
    print(table(["program", "calls", "the calls on data.txt, in order",
                 "reads returned"], [experiment.cells(r, 3, lambda t: [
                     len(t.file_calls), " ".join(t.file_calls),
                     " ".join(map(str, reads(t)))]) for r in rows]))
    publish(claims(rows))


if __name__ == "__main__":
    main()
