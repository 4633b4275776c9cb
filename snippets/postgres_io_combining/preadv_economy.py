"""Reading 100 cached 8 KiB pages takes 100 pread calls one page at a time, 7 preadv
calls 16 pages at a time, and the fewer calls take less time."""

from __future__ import annotations

import os
import statistics
import tempfile

from snippets import measure as timing
from snippets import report
from snippets.report import HostForbids, above, check, equals, finding
from snippets.syscalls import rw_calls

PAGES, PAGE, BATCH, REPEAT = 100, 8192, 16, 5

ONE = check("pread-calls", "one page per call: the kernel counted {bound}",
            equals(PAGES), unit="read calls")
BATCHED = check("preadv-calls", f"{BATCH} pages per call: the kernel counted {{bound}}",
                equals(-(-PAGES // BATCH)), unit="read calls")
BYTES = check("same-bytes", "pread and preadv both read {bound}",
              equals([PAGES * PAGE // 1024]),
              unit="KiB")
FASTER = finding("preadv-faster", "one page per call takes {bound} the time of "
                 f"{BATCH} pages per call (median of paired rounds)", above(1.5),
                 unit="x", fmt=".1f", timing=True)
NO_IO_ACCOUNTING = HostForbids("this kernel has no task I/O accounting "
                               "(/proc/self/io) to count read calls")


def page_at_a_time(fd: int) -> int:
    return sum(len(os.pread(fd, PAGE, n * PAGE)) for n in range(PAGES))


def combined(fd: int, buffers: list[bytearray]) -> int:
    done = 0
    for first in range(0, PAGES, BATCH):  # os.preadv is the preadv2 syscall
        done += os.preadv(fd, buffers[:PAGES - first], first * PAGE)
    return done


def calls(fn, *args) -> tuple[int | None, int]:
    """Read-family syscalls fn made (from /proc/self/io) and the bytes it read.

    Reading /proc/self/io is itself a read; an empty run measures that, once."""
    before, empty, got, after = rw_calls(), rw_calls(), fn(*args), rw_calls()
    if before is None:
        return None, got
    return (after[0] - empty[0]) - (empty[0] - before[0]), got


def measure(rounds: int = 51) -> dict:
    with tempfile.TemporaryFile() as f:
        f.write(os.urandom(PAGES * PAGE))
        f.flush()
        fd, buffers = f.fileno(), [bytearray(PAGE) for _ in range(BATCH)]
        counts = {"pread": calls(page_at_a_time, fd),
                  "preadv": calls(combined, fd, buffers)}
        times = timing.rounds(rounds, {
            "pread": lambda: [page_at_a_time(fd) for _ in range(REPEAT)],
            "preadv": lambda: [combined(fd, buffers) for _ in range(REPEAT)]})
    ratios = timing.paired_ratios(times, over="pread", base="preadv")
    return {"counts": counts, "ratios": ratios}


def claims(r: dict) -> list[report.Claim]:
    (n_pread, b_pread), (n_preadv, b_preadv) = r["counts"].values()
    ratios = r["ratios"]
    counted = [ONE.of(n_pread), BATCHED.of(n_preadv)] if n_pread is not None else [
        ONE.not_checked(NO_IO_ACCOUNTING), BATCHED.not_checked(NO_IO_ACCOUNTING)]
    return [*counted, BYTES.of(sorted({b_pread // 1024, b_preadv // 1024})),
            FASTER.of(statistics.median(ratios), detail=f"rounds "
                      f"{min(ratios):.1f}x..{max(ratios):.1f}x")]


def main() -> None:
    checked = timing.check_timing(measure, claims)
    r = checked.result
    rows = [[name, n, got // 1024] for name, (n, got) in r["counts"].items()]
    print(report.table(["method", "read calls", "KiB"], rows))
    print(f"\npread / preadv time, {len(r['ratios'])} interleaved rounds: median "
          f"{statistics.median(r['ratios']):.1f}×")
    report.publish(checked.claims)


if __name__ == "__main__":
    main()
