"""Where the calls come from: loader and allocator, imports, threads, the event loop."""

from __future__ import annotations

from collections import Counter

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table

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


def claims(rows: list[experiment.Row]) -> list[Claim]:
    kinds = {r.program.label: by_kind(r.trace.counts) for r in rows if r.trace}
    out = []
    for row in (r for r in rows if r.trace and experiment.is_c(r)):
        k = kinds[row.program.label]
        out.append(Claim(f"{row.program.label} makes no thread, signal or "
                         "event-loop call", f"{k['threads']}, {k['signals']}, "
                         f"{k['event loop']}",
                         k["threads"] + k["signals"] + k["event loop"] == 0))
    if "python3" in kinds:
        k = kinds["python3"]
        out.append(Claim("most of Python's calls are on files (its import system)",
                         f"{k['files']} of {k.total()}", k["files"] > k.total() / 2))
    for name in ("node", "bun"):
        if name in kinds:
            k = kinds[name]
            out.append(Claim(f"{name} sets up an event loop and threads",
                             f"event loop {k['event loop']}, threads {k['threads']}",
                             k["event loop"] > 1 and k["threads"] > 0))
    return out + experiment.unmeasured_claims(rows, "calls sorted by kind")


def main() -> None:
    rows = experiment.measure()
    done = [r for r in rows if r.trace]
    heads = [*KINDS, "other"]
    if done:
        print(table(["program", *heads], [
            [r.program.label, *(by_kind(r.trace.counts)[h] for h in heads)]
            for r in done]))
        print()
        print(table(["program", "the most frequent calls"], [
            [r.program.label, ", ".join(f"{name} {n}" for name, n in
                                        r.trace.counts.most_common(4))]
            for r in done]))
    for line in experiment.not_measured(rows):
        print(line)
    publish(claims(rows))


if __name__ == "__main__":
    main()
