"""Blocking waits overlap: a thread pool, or asyncio on one thread, beats a loop."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.measure import check_timing, timed
from snippets.report import Claim, below, equals, finding, publish, table

POOL = finding("pool-fraction", "a {tasks}-thread pool takes {bound} the sequential "
               "time", below(0.3), unit="x", timing=True)
ASYNC = finding("asyncio-fraction", "asyncio on one thread takes {bound} the "
                "sequential time", below(0.3), unit="x", timing=True)
NO_THREAD = finding("asyncio-no-thread", "asyncio started no thread: threads "
                    "added while its loop waits", equals(0))


@dataclass(frozen=True)
class IoResult:
    tasks: int
    delay: float
    sequential: float
    pool: float
    asyncio: float
    threads_before: int
    threads_in_loop: int


def one_after_another(tasks: int, delay: float) -> None:
    for _ in range(tasks):
        time.sleep(delay)


def thread_pool(tasks: int, delay: float) -> None:
    with ThreadPoolExecutor(max_workers=tasks) as pool:
        list(pool.map(time.sleep, [delay] * tasks))


async def measure_async(tasks: int = 20, delay: float = 0.02) -> IoResult:
    """Measure all three; async so a notebook (already in a loop) can await it."""
    before = threading.active_count()
    sequential, _ = timed(lambda: one_after_another(tasks, delay))
    pool, _ = timed(lambda: thread_pool(tasks, delay))
    start = time.perf_counter()
    await asyncio.gather(*(asyncio.sleep(delay) for _ in range(tasks)))
    in_loop = threading.active_count()
    aio = time.perf_counter() - start
    return IoResult(tasks, delay, sequential, pool, aio, before, in_loop)


def measure(tasks: int = 20, delay: float = 0.02) -> IoResult:
    return asyncio.run(measure_async(tasks, delay))


def claims(r: IoResult) -> list[Claim]:
    return [POOL.of(r.pool / r.sequential, tasks=r.tasks),
            ASYNC.of(r.asyncio / r.sequential),
            NO_THREAD.of(r.threads_in_loop - r.threads_before)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    rows = [
        ["sequential", 1, 1.0],
        [f"thread pool ({r.tasks} workers)", r.tasks, r.pool / r.sequential],
        ["asyncio.gather", 1, r.asyncio / r.sequential],
    ]
    rows = [[how, n, f"{ratio:.2f}"] for how, n, ratio in rows]
    print(f"{r.tasks} tasks, each sleeps {r.delay * 1000:g} ms")
    print(table(["how", "threads", "time / sequential"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
