"""A model: a lazy purge keeps every rule as long as the oldest entry lives and checks
them on each read; an active purge deletes entries and their index entries at once."""

from __future__ import annotations

import random

from snippets import svg
from snippets.cloudflare_purge._caches import MAX_AGE, Active, Lazy
from snippets.report import Claim, publish, table

TICKS, URLS, TAGS = 2_000, 1_000, 50  # ticks of a logical clock, URLs, tags
RATES = [0, 5, 10, 25, 50]  # purges per 100 ticks


def simulate(rate: int, seed: int = 7) -> dict:
    rng, caches = random.Random(seed), {"lazy": Lazy(), "active": Active()}
    checks, agree, reads, purged_at = {"lazy": 0, "active": 0}, True, 0, []
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
            agree &= answers["lazy"][0] == answers["active"][0]
            reads += 1
            for name, (_, work) in answers.items():
                checks[name] += work
    lazy, active = caches["lazy"], caches["active"]
    return {"rate": rate, "agree": agree, "rules": len(lazy.rules),
            "recent": sum(t >= TICKS - MAX_AGE for t in purged_at),
            "indexed": set().union(*active.index.values()) == set(active.entries),
            "entries": {"lazy": len(lazy.entries), "active": len(active.entries)},
            "per_read": {n: w / reads for n, w in checks.items()}}


def measure() -> list[dict]:
    return [simulate(rate) for rate in RATES]


def claims(runs: list[dict]) -> list[Claim]:
    lazy = [r["per_read"]["lazy"] for r in runs]
    return [
        Claim("both designs answer every read the same, at every purge rate",
              f"{sum(r['agree'] for r in runs)} of {len(runs)} runs agree",
              all(r["agree"] for r in runs)),
        Claim(f"the lazy cache holds every purge of the last {MAX_AGE} ticks, no more",
              ", ".join(f"{r['rules']}" for r in runs),
              all(r["rules"] == r["recent"] for r in runs)),
        Claim("the active cache keeps no purged entry: it holds fewer",
              ", ".join(f"{r['entries']['active']} < {r['entries']['lazy']}"
                        for r in runs[1:]),
              all(r["entries"]["active"] < r["entries"]["lazy"] for r in runs[1:])),
        Claim("the active cache's tag index names exactly the entries it holds",
              f"{sum(r['indexed'] for r in runs)} of {len(runs)} runs",
              all(r["indexed"] for r in runs)),
        Claim("a lazy read checks more rules the more purges there are",
              " < ".join(f"{w:.1f}" for w in lazy),
              all(a < b for a, b in zip(lazy, lazy[1:]))),
        Claim("an active read is one lookup at every rate",
              f"{max(r['per_read']['active'] for r in runs):.0f}",
              all(r["per_read"]["active"] == 1 for r in runs)),
    ]


def main() -> None:
    runs = measure()
    print(f"model: {TICKS:,} ticks, {URLS:,} URLs in {TAGS} tags, entries live "
          f"{MAX_AGE} ticks, 5 reads and 1 put per tick")
    print(table(["purges/100 ticks", "rules (lazy)", "entries lazy", "active",
                 "checks/read lazy", "active"], [
        [r["rate"], r["rules"], r["entries"]["lazy"], r["entries"]["active"],
         f"{r['per_read']['lazy']:.1f}", f"{r['per_read']['active']:.0f}"]
        for r in runs]))
    chart = svg.line_chart("Work per read (model)", "purges per 100 ticks",
                           "checks per read", {
        name: [(r["rate"], r["per_read"][name]) for r in runs]
        for name in ("lazy", "active")})
    publish(claims(runs), figures={"work_per_read": chart})


if __name__ == "__main__":
    main()
