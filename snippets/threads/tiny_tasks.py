"""For tiny tasks a thread each costs most, a pool less, plain inline calls least."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import check_timing, rounds, timed
from snippets.report import Claim, publish, table


def tiny(i: int) -> int:
    return i * 2


def thread_each(tasks: int) -> list[int]:
    out = [0] * tasks

    def run(i: int) -> None:
        out[i] = tiny(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    return out


def pooled(tasks: int, workers: int) -> list[int]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(tiny, range(tasks)))


def inline(tasks: int) -> list[int]:
    return [tiny(i) for i in range(tasks)]


@dataclass(frozen=True)
class TinyResult:
    tasks: int
    workers: int
    seconds: dict[str, float]
    all_done: bool


def measure(tasks: int = 1000, workers: int = 4, repeats: int = 3) -> TinyResult:
    """Interleaved rounds, the fastest of each way (the least disturbed)."""
    ways = {"a thread per task": lambda: thread_each(tasks),
            f"a pool of {workers} threads": lambda: pooled(tasks, workers),
            "inline": lambda: inline(tasks)}
    expected = inline(tasks)
    done = all(timed(run)[1] == expected for run in ways.values())
    seconds = {name: min(t) for name, t in rounds(repeats, ways).items()}
    return TinyResult(tasks, workers, seconds, done)


def claims(r: TinyResult) -> list[Claim]:
    (a, ta), (b, tb), (c, tc) = r.seconds.items()
    return [
        Claim(f"all three ways return the same {r.tasks} results",
              "same" if r.all_done else "different", r.all_done),
        Claim(f"{a} is slower than {b}", f"{ta / tb:.0f}x", ta > tb, timing=True),
        Claim(f"{b} is slower than {c}", f"{tb / tc:.0f}x", tb > tc, timing=True),
    ]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{r.tasks} tasks, each returns i * 2")
    rows = [[name, f"{s / r.tasks * 1e6:.2g}"] for name, s in r.seconds.items()]
    print(table(["how", "microseconds per task"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
