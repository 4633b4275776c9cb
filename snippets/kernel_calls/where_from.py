"""Where the calls come from: loader and allocator, imports, threads, the event loop."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from snippets.kernel_calls import _experiment as experiment
from snippets.kernel_calls._chart import stacked_bars
from snippets.report import Claim, above, at_least, equals, finding, publish, table

KINDS = {
    "start+memory": "execve brk mmap munmap mprotect madvise mremap arch_prctl "
                    "set_tid_address set_robust_list rseq prlimit64 access readlink "
                    "getrandom uname sysinfo",
    "files": "open openat read pread64 write close newfstatat fstat statx lseek "
             "getdents64 ioctl fcntl getcwd faccessat2",
    "threads": "clone clone3 futex gettid exit sched_getaffinity sched_yield",
    "signals": "rt_sigaction rt_sigprocmask sigaltstack rt_sigreturn",
    "event loop": "epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2 "
                  "eventfd2 pipe2 io_uring_setup io_uring_enter io_uring_register "
                  "poll",
}
KIND_OF = {name: kind for kind, names in KINDS.items() for name in names.split()}


def by_kind(counts: Counter) -> Counter:
    kinds = Counter({kind: 0 for kind in [*KINDS, "other"]})
    for name, calls in counts.items():
        kinds[KIND_OF.get(name, "other")] += calls
    return kinds


def runtime_calls(kinds: Counter) -> int:
    return kinds["threads"] + kinds["signals"] + kinds["event loop"]


NO_RUNTIME = {name: finding(f"{name.lower().replace(' ', '-')}-no-runtime-calls",
                            f"thread, signal and event-loop calls {name} makes: "
                            "{bound}", equals(0)) for name in ("C static", "C dynamic")}
FILES = {"python3": finding("python-mostly-files", "the share of python3's calls "
                            "that are on files (its import system): {bound}",
                            above(0.5), fmt=".0%")}
FROM_PYC = {"python3": finding("python-imports-pyc", "the share of the Python modules "
                               "python3 reads from disk that come from a cached .pyc, "
                               "not the .py source: {bound}", equals(1.0), fmt=".0%")}
LOOP = {name: finding(f"{name}-event-loop", f"event-loop calls {name} makes (epoll, "
                      "eventfd, pipes): {bound}", at_least(2)) for name in ("node", "bun")}


def from_pyc(trace) -> float:
    """Of the .py and .pyc files opened (not the script itself), the .pyc share."""
    read = [p for p in trace.opened if p.endswith((".py", ".pyc"))
            and Path(p).name != "read.py"]
    return sum(p.endswith(".pyc") for p in read) / max(len(read), 1)


def claims(rows: list[experiment.Row]) -> list[Claim]:
    return experiment.grouped([
        *experiment.per_program(NO_RUNTIME, rows,
                                lambda t: runtime_calls(by_kind(t.counts))),
        *experiment.per_program(FILES, rows,
                                lambda t: by_kind(t.counts)["files"] / t.total),
        *experiment.per_program(FROM_PYC, rows, from_pyc),
        *experiment.per_program(LOOP, rows,
                                lambda t: by_kind(t.counts)["event loop"])])


def main() -> None:
    rows = experiment.measure()
    heads = [*KINDS, "other"]
    print(table(["program", *heads], [experiment.cells(
        r, len(heads), lambda t: [by_kind(t.counts)[h] for h in heads]) for r in rows]))
    print()
    print(table(["program", "the most frequent calls"], [experiment.cells(
        r, 1, lambda t: [", ".join(f"{name} {n}" for name, n in
                                   t.counts.most_common(4))]) for r in rows]))
    bars = [(r.program.label, by_kind(r.trace.counts)) for r in rows if r.trace]
    chart = stacked_bars("Where the calls come from", heads, bars) if bars else ""
    publish(claims(rows), figures={"kernel-calls-kinds": chart} if chart else {})


if __name__ == "__main__":
    main()
