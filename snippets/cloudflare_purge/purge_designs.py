"""A model: a lazy purge keeps every rule as long as the oldest entry lives and checks
them on each read; an active purge deletes entries and their index entries at once."""

from __future__ import annotations

import bisect
from collections import defaultdict, deque

from snippets import svg
from snippets.cloudflare_purge._workload import (
    MAX_AGE,
    RATES,
    SEED,
    TAGS,
    TICKS,
    URLS,
    Run,
    simulate,
)
from snippets.report import Claim, above, ascending, check, equals, publish, table


class Lazy:
    """Purge = a timestamped rule; a read misses if a rule as new names its tag
    (within a tick, puts come before purges). get() says (hit, checks made)."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[int, int]] = {}  # url -> (inserted, tag)
        self.rules: list[tuple[int, int]] = []  # (time, tag), in time order
        self.puts: deque[tuple[int, int]] = deque()  # (time, url), oldest first

    def put(self, now: int, url: int, tag: int) -> None:
        self.entries[url] = (now, tag)
        self.puts.append((now, url))

    def purge(self, now: int, tag: int) -> None:  # lazy: keep a rule, delete nothing
        self.rules.append((now, tag))

    def get(self, url: int) -> tuple[bool, int]:
        if url not in self.entries:
            return False, 1
        inserted, tag = self.entries[url]
        newer = self.rules[bisect.bisect_left(self.rules, (inserted, -1)):]
        return all(t != tag for _, t in newer), 1 + len(newer)

    def evict(self, now: int) -> list[tuple[int, int]]:
        """Drop entries put MAX_AGE ticks ago or more; return (url, tag) of each."""
        gone = []
        while self.puts and now - self.puts[0][0] >= MAX_AGE:
            when, url = self.puts.popleft()
            if self.entries.get(url, (None,))[0] == when:  # not put again since
                gone.append((url, self.entries.pop(url)[1]))
        return gone

    def expire(self, now: int) -> None:  # a rule can go once no entry predates it
        self.evict(now)
        keep = bisect.bisect_left(self.rules, (now - MAX_AGE + 1, -1))
        self.rules = self.rules[keep:]


class Active(Lazy):
    """Purge = delete now: the tag index names every entry to drop."""

    def __init__(self) -> None:
        super().__init__()
        self.index: dict[int, set[int]] = defaultdict(set)  # tag -> urls

    def put(self, now: int, url: int, tag: int) -> None:
        if url in self.entries:
            self.index[self.entries[url][1]].discard(url)
        super().put(now, url, tag)
        self.index[tag].add(url)

    def purge(self, now: int, tag: int) -> None:  # active: delete now, by the index
        for url in self.index.pop(tag, set()):
            del self.entries[url]

    def get(self, url: int) -> tuple[bool, int]:
        return url in self.entries, 1

    def expire(self, now: int) -> None:
        for url, tag in self.evict(now):
            self.index[tag].discard(url)


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


def measure() -> list[Run]:
    return [simulate(rate, {"lazy": Lazy(), "active": Active()}) for rate in RATES]


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
