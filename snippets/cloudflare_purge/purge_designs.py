"""A model: a lazy purge keeps every rule as long as the oldest entry lives and checks
them on each read; an active purge deletes entries and their index entries at once."""

from __future__ import annotations

import random
from dataclasses import dataclass

from snippets import svg
from snippets.cloudflare_purge._caches import MAX_AGE, Active, Lazy
from snippets.report import (
    Claim,
    above,
    ascending,
    check,
    equals,
    publish,
    table,
)

TICKS, URLS, TAGS, SEED = 2_000, 1_000, 50, 7  # ticks of a logical clock, URLs, tags
RATES = [0, 5, 10, 25, 50]  # purges per 100 ticks

AGREE = check("designs-agree", "model: reads the two caches answered differently, "
              "at all {rates} purge rates", equals(0))
HISTORY = check("lazy-history", "model: rules the lazy cache kept beyond, or short "
                "of, the purges of the last {age} ticks", equals(0))
INDEX = check("index-matches", "model: entries the active cache's tag index names "
              "wrongly or misses", equals(0))
# A seeded model gives the same numbers on every machine: what it shows are checks
# that the model behaves as the page says, not findings about Cloudflare's caches.
STALE = check("lazy-holds-stale", "model: at every purge rate above 0 the lazy cache "
              "holds {bound} the active cache's entries (purged, not yet evicted)",
              above(1.0), unit="x")
GROWS = check("lazy-read-grows", "model: checks per lazy read, from the "
              "lowest purge rate to the highest, are {bound}", ascending())


@dataclass(frozen=True)
class Run:
    rate: int  # purges per 100 ticks
    disagreements: int  # reads the two caches answered differently
    rules: int  # purge rules the lazy cache holds at the end
    recent: int  # purges made in the last MAX_AGE ticks
    unindexed: int  # entries the active cache's index names wrongly or misses
    entries: dict[str, int]  # entries each cache holds at the end
    per_read: dict[str, float]  # checks per read, each cache


def simulate(rate: int, seed: int = SEED) -> Run:
    rng, caches = random.Random(seed), {"lazy": Lazy(), "active": Active()}
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


def measure() -> list[Run]:
    return [simulate(rate) for rate in RATES]


def claims(runs: list[Run]) -> list[Claim]:
    purged = [r for r in runs if r.rate]
    return [AGREE.of(sum(r.disagreements for r in runs), rates=len(runs)),
            HISTORY.of(sum(abs(r.rules - r.recent) for r in runs), age=MAX_AGE),
            INDEX.of(sum(r.unindexed for r in runs)),
            STALE.of(min(r.entries["lazy"] / r.entries["active"] for r in purged)),
            GROWS.of([round(r.per_read["lazy"], 1) for r in runs])]


def main() -> None:
    runs = measure()
    print(f"model (seed {SEED}): {TICKS:,} ticks, {URLS:,} URLs in {TAGS} tags,")
    print(f"entries live {MAX_AGE} ticks, 5 reads and 1 put per tick")
    print(table(["purges/100 ticks", "rules (lazy)", "entries lazy", "active",
                 "checks/read lazy", "active"], [
        [r.rate, r.rules, r.entries["lazy"], r.entries["active"],
         f"{r.per_read['lazy']:.1f}", f"{r.per_read['active']:.0f}"] for r in runs]))
    chart = svg.line_chart("Work per read (model)", "purges per 100 ticks",
                           "checks per read", {
        name: [(r.rate, r.per_read[name]) for r in runs]
        for name in ("lazy", "active")})
    publish(claims(runs), figures={"work_per_read": chart})


if __name__ == "__main__":
    main()
