"""hashlib releases the GIL on big buffers, so two threads hash two at once."""

from __future__ import annotations

import hashlib
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import check_timing, timed
from snippets.report import Claim, check, equals, publish, table
from snippets.threads._common import build, overlap, overlapped, usable_cores

OVERLAP = overlap("hash-threads-overlap", "{build}, {cores} usable cores: {buffers} "
                  "threads hashing {mib} MiB {passes} times each")
SAME = check("hash-same-digests", "rounds in which a thread's digest differed from "
             "the loop's: {bound}", equals(0))


@dataclass(frozen=True)
class HashResult:
    buffers: int
    mib: int
    passes: int
    cores: int
    speedup: float  # wall: the loop / the pool, median of paired rounds
    per_wall: list[float]  # CPU s per wall s of the pool, each round
    mismatched: int  # rounds where a thread's digest differed from the loop's


def digest(data: bytes, passes: int) -> str:
    """sha256 of `data` fed `passes` times. At 16 MiB a pass takes ~10 ms: a round of
    one pass is decided by where the scheduler wakes the second thread (behind the
    first, it waits for the next tick, 4 ms at HZ=250); six make that a few percent."""
    h = hashlib.sha256()
    for _ in range(passes):
        h.update(data)  # C, without the GIL: the buffer is over 2047 bytes
    return h.hexdigest()


def measure(buffers: int = 2, mib: int = 16, rounds: int = 4,
            passes: int = 6) -> HashResult:
    """Interleaved rounds, so a busy neighbour hurts every way alike."""
    data = [bytes([i]) * (mib << 20) for i in range(buffers)]
    speed, rate, mismatched = [], [], 0
    with ThreadPoolExecutor(buffers) as pool:
        list(pool.map(digest, [b"warm"] * buffers, [1] * buffers))  # start them
        for _ in range(rounds):
            seq, expected = timed(lambda: [digest(d, passes) for d in data])
            wall, cpu, got = overlapped(pool, lambda d: digest(d, passes), data)
            speed.append(seq / wall)
            rate.append(cpu)
            mismatched += got != expected
    med = statistics.median
    return HashResult(buffers, mib, passes, usable_cores(), med(speed), rate,
                      mismatched)


def claims(r: HashResult) -> list[Claim]:
    return [SAME.of(r.mismatched),
            OVERLAP.of(r.per_wall, r.cores >= 2, build=build(), cores=r.cores,
                       buffers=r.buffers, mib=r.mib, passes=r.passes)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{build()}, {r.cores} usable cores; sha256 of {r.buffers} x {r.mib} MiB, "
          f"{r.passes} passes each")
    med = statistics.median
    rows = [[f"{r.buffers} threads", f"{r.speedup:.2f}", f"{med(r.per_wall):.2f}"]]
    print(table(["how", "speed-up (wall)", "CPU s per wall s"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
