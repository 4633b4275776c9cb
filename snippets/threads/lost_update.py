"""Two threads that read, wait and write back a shared counter lose updates: a
blocking call between the read and the write hands the GIL to the other thread.
Holding a threading.Lock across all three loses none."""

from __future__ import annotations

import contextlib
import threading
import time

from snippets.report import Claim, at_least, equals, finding, publish, table

THREADS, STEPS = 2, 500
LOST = finding("lost-updates", "{threads} threads, {steps} read-sleep(0)-write "
               "increments each, no lock: share of increments lost {bound}",
               at_least(0.25), fmt=".0%")
LOCKED = finding("lock-loses-none", "the same with a threading.Lock held from the "
                 "read to the write: increments lost {bound}", equals(0))


class Counter:
    value = 0


def add(counter: Counter, steps: int, lock, start: threading.Barrier) -> None:
    start.wait(timeout=5)  # both threads begin together
    for _ in range(steps):
        with lock:
            seen = counter.value
            time.sleep(0)  # any blocking call: it lets go of the GIL
            counter.value = seen + 1


def run(lock, threads: int = THREADS, steps: int = STEPS) -> int:
    """How many of threads * steps increments the counter is missing."""
    counter, start = Counter(), threading.Barrier(threads)
    workers = [threading.Thread(target=add, args=(counter, steps, lock, start))
               for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=10)
    return threads * steps - counter.value


def measure(threads: int = THREADS, steps: int = STEPS) -> dict:
    return {"threads": threads, "steps": steps,
            "no lock": run(contextlib.nullcontext(), threads, steps),
            "threading.Lock": run(threading.Lock(), threads, steps)}


def claims(r: dict) -> list[Claim]:
    names = {"threads": r["threads"], "steps": r["steps"]}
    total = r["threads"] * r["steps"]
    return [LOST.of(r["no lock"] / total, detail=f"{r['no lock']} of {total}",
                    **names),
            LOCKED.of(r["threading.Lock"], **names)]


def main() -> None:
    r = measure()
    total = r["threads"] * r["steps"]
    print(f"{r['threads']} threads x {r['steps']} increments = {total}")
    print(table(["guard", "final count", "lost"],
                [[how, total - r[how], r[how]] for how in ("no lock",
                                                           "threading.Lock")]))
    publish(claims(r))


if __name__ == "__main__":
    main()
