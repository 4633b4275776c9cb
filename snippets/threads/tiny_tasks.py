"""For tiny tasks a thread each costs most, a pool less, plain inline calls least."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import check_timing, rounds
from snippets.report import Claim, above, check, equals, finding, publish, table

SAME = check("tiny-same-results", "ways with threads whose {tasks} results differ "
             "from the plain loop's: {bound}", equals(0))
THREAD_EACH = finding("thread-each-vs-pool", "a thread per task takes {bound} the "
                      "time of a pool of {workers} threads", above(1), unit="x",
                      timing=True)
POOL = finding("pool-vs-inline", "a pool of {workers} threads takes {bound} the "
               "time of a plain loop", above(1), unit="x", timing=True)


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
    seconds: dict[str, float]  # each way: the fastest of the interleaved rounds
    differ: int  # ways with threads whose results differ from the plain loop's


def measure(tasks: int = 1000, workers: int = 4, repeats: int = 3) -> TinyResult:
    """Interleaved rounds, the fastest of each way (the least disturbed)."""
    ways = {"a thread per task": lambda: thread_each(tasks),
            f"a pool of {workers} threads": lambda: pooled(tasks, workers),
            "inline": lambda: inline(tasks)}
    expected = inline(tasks)
    differ = (thread_each(tasks) != expected) + (pooled(tasks, workers) != expected)
    seconds = {name: min(t) for name, t in rounds(repeats, ways).items()}
    return TinyResult(tasks, workers, seconds, differ)


def claims(r: TinyResult) -> list[Claim]:
    each, pool, loop = r.seconds.values()
    return [SAME.of(r.differ, tasks=r.tasks),
            THREAD_EACH.of(each / pool, workers=r.workers),
            POOL.of(pool / loop, workers=r.workers)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{r.tasks} tasks, each returns i * 2")
    rows = [[name, f"{s / r.tasks * 1e6:.2g}"] for name, s in r.seconds.items()]
    print(table(["how", "microseconds per task"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
