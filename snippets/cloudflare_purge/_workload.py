"""The workload both caches of the purge model are fed: one stream of puts, purges
and reads on a logical clock of ticks, the same for both, at a given purge rate.
Every read asks both caches and compares their answers."""

from __future__ import annotations

import random
from dataclasses import dataclass

TICKS, URLS, TAGS, SEED = 2_000, 1_000, 50, 7  # ticks of a logical clock, URLs, tags
MAX_AGE = 500  # ticks an entry lives, in either cache
RATES = [0, 5, 10, 25, 50]  # purges per 100 ticks


@dataclass(frozen=True)
class Run:
    rate: int  # purges per 100 ticks
    disagreements: int  # reads the two caches answered differently
    rules: int  # purge rules the lazy cache holds at the end
    recent: int  # purges made in the last MAX_AGE ticks
    unindexed: int  # entries the active cache's index names wrongly or misses
    entries: dict[str, int]  # entries each cache holds at the end
    per_read: dict[str, float]  # checks per read, each cache


def simulate(rate: int, caches: dict, seed: int = SEED) -> Run:
    """Feed {"lazy": ..., "active": ...} the same seeded stream for TICKS ticks."""
    rng = random.Random(seed)
    checks, differ, reads, purged_at = {"lazy": 0, "active": 0}, 0, 0, []
    for now in range(TICKS):
        url, tag = rng.randrange(URLS), rng.randrange(TAGS)
        purge = rng.randrange(TAGS) if rng.random() * 100 < rate else None
        purged_at += [now] if purge is not None else []
        for c in caches.values():
            c.expire(now)
            c.put(now, url, tag)
            if purge is not None:
                c.purge(now, purge)
        for url in [rng.randrange(URLS) for _ in range(5)]:
            answers = {name: c.get(url) for name, c in caches.items()}
            differ += answers["lazy"][0] != answers["active"][0]
            reads += 1
            for name, (_, work) in answers.items():
                checks[name] += work
    lazy, active = caches["lazy"], caches["active"]
    return Run(rate, differ, len(lazy.rules),
               sum(t >= TICKS - MAX_AGE for t in purged_at),
               len(set().union(*active.index.values()) ^ set(active.entries)),
               {"lazy": len(lazy.entries), "active": len(active.entries)},
               {n: w / reads for n, w in checks.items()})
