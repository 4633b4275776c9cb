"""hashlib releases the GIL on big buffers, so two threads hash two at once."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import timed
from snippets.report import Claim, publish, table
from snippets.threads._common import build, ratio_claim, usable_cores


@dataclass(frozen=True)
class HashResult:
    buffers: int
    mib: int
    cores: int
    sequential: float
    threads: float
    same_digests: bool


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def measure(buffers: int = 2, mib: int = 32, repeats: int = 8) -> HashResult:
    """Best of interleaved runs, so a busy neighbour hurts both sides alike."""
    data = [bytes([i]) * (mib << 20) for i in range(buffers)]
    seq: list[float] = []
    par: list[float] = []
    with ThreadPoolExecutor(buffers) as pool:
        for _ in range(repeats):
            elapsed, expected = timed(lambda: [digest(d) for d in data])
            seq.append(elapsed)
            elapsed, got = timed(lambda: list(pool.map(digest, data)))
            par.append(elapsed)
    return HashResult(buffers, mib, usable_cores(), min(seq), min(par),
                      got == expected)


def claims(r: HashResult) -> list[Claim]:
    where = f"{build()}, {r.cores} usable cores: {r.buffers} threads hashing"
    return [
        Claim("threads compute the same digests as the loop",
              "equal" if r.same_digests else "different", r.same_digests),
        ratio_claim(f"{where} {r.mib} MiB each", r.threads / r.sequential,
                    parallel=r.cores >= 2),
    ]


def main() -> None:
    r = measure()
    print(f"{build()}, {r.cores} usable cores; sha256 of {r.buffers} x {r.mib} MiB")
    rows = [["sequential", "1.00"], [f"{r.buffers} threads",
                                     f"{r.threads / r.sequential:.2f}"]]
    print(table(["how", "time / sequential"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
