"""hashlib releases the GIL on big buffers, so two threads hash two at once."""

from __future__ import annotations

import hashlib
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import check_timing, timed
from snippets.report import Claim, publish, table
from snippets.threads._common import build, overlap_claim, overlapped, usable_cores


@dataclass(frozen=True)
class HashResult:
    buffers: int
    mib: int
    cores: int
    speedup: float  # wall: the loop / the pool, median of paired rounds
    per_wall: list[float]  # CPU s per wall s of the pool, each round
    same_digests: bool


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def measure(buffers: int = 2, mib: int = 16, rounds: int = 4) -> HashResult:
    """Interleaved rounds, so a busy neighbour hurts every way alike."""
    data = [bytes([i]) * (mib << 20) for i in range(buffers)]
    expected = [digest(d) for d in data]
    speed, rate = [], []
    with ThreadPoolExecutor(buffers) as pool:
        list(pool.map(digest, [b"warm"] * buffers))  # start every thread first
        for _ in range(rounds):
            seq = timed(lambda: [digest(d) for d in data])[0]
            wall, cpu = overlapped(pool, digest, data)
            speed.append(seq / wall)
            rate.append(cpu)
        same = list(pool.map(digest, data)) == expected
    med = statistics.median
    return HashResult(buffers, mib, usable_cores(), med(speed), rate, same)


def claims(r: HashResult) -> list[Claim]:
    where = f"{build()}, {r.cores} usable cores: {r.buffers} threads hashing"
    return [
        Claim("threads compute the same digests as the loop",
              "equal" if r.same_digests else "different", r.same_digests),
        overlap_claim(f"{where} {r.mib} MiB each", r.per_wall, parallel=r.cores >= 2),
    ]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{build()}, {r.cores} usable cores; sha256 of {r.buffers} x {r.mib} MiB")
    med = statistics.median
    rows = [[f"{r.buffers} threads", f"{r.speedup:.2f}", f"{med(r.per_wall):.2f}"]]
    print(table(["how", "speed-up (wall)", "CPU s per wall s"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
