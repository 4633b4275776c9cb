"""While purges pile up, a RocksDB read steps over every key deleted key by key, over
none that a DeleteRange covers, and SQLite's B-tree has nothing left to step over."""

from __future__ import annotations

from pathlib import Path

from snippets import svg
from snippets.cloudflare_purge._io import scratch
from snippets.cloudflare_purge._rocks import tickers
from snippets.cloudflare_purge._stores import FILES, KEYS, RANGE, SQLITE, key, stores
from snippets.cloudflare_purge.purge_cost import PURGE
from snippets.measure import best_of, check_timing
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    below,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

PURGES, REPEATS = 10, 5  # purge hosts 0..9; time each read 5 times, keep the best

FIRST = check("reads-find-next-host", "after each purge every store's read finds the "
              "next host's first file", equals(0))
KEY_SKIPS = finding("key-by-key-skips", "the read steps over {bound} entries per key "
                    "deleted key by key: its tombstone and its value", equals(2))
RANGE_SKIPS = finding("range-delete-skips", "after {purges} DeleteRange purges the "
                      "read steps over {bound} entries one by one", equals(0))
GROWS = finding("key-by-key-read-grows", "over key-by-key purges the read takes "
                "{bound} as long after {purges} purges as after one", above(4),
                unit="x", timing=True)
RANGE_GROWS = finding("range-delete-read-grows", "over DeleteRange purges the read "
                      "slows too: {bound} as long after {purges} purges as after one",
                      above(1.5), unit="x", timing=True)
VERSUS = finding("key-by-key-vs-range-read", "after {purges} purges the read takes "
                 "{bound} as long over key-by-key deletes as over DeleteRange",
                 above(20), unit="x", fmt=",.0f", timing=True)
FLAT = finding("sqlite-read-flat", "SQLite's read takes {bound} as long after "
               "{purges} purges as after one", below(2), unit="x", timing=True)
CLAIMS = [FIRST, KEY_SKIPS, RANGE_SKIPS, GROWS, RANGE_GROWS, VERSUS, FLAT]


def first_key(store) -> bytes:
    """The first cached file at or after host000/: past every purged host."""
    handle, opts = store
    if opts is None:
        return handle.execute("SELECT k FROM kv WHERE k >= ? LIMIT 1",
                              (b"host",)).fetchone()[0]
    it = handle.iter()
    it.seek(b"host")
    found = it.key()
    del it
    return found


def measure() -> list[dict]:
    steps = []
    with scratch() as tmp, stores(Path(tmp)) as dbs:
        for host in range(PURGES):
            for name, purge in PURGE.items():
                purge(dbs[name][0], host)
            before = {n: tickers(dbs[n][1])["number.iter.skip"] for n in (RANGE, KEYS)}
            wrong = sum(first_key(dbs[n]) != key(host + 1, 0) for n in PURGE)
            skips = {n: tickers(dbs[n][1])["number.iter.skip"] - before[n]
                     for n in (RANGE, KEYS)}
            # back to back, not interleaved: the key-by-key read sweeps 40,000
            # entries through the CPU caches and would slow whichever read came next
            best = {n: best_of(REPEATS, lambda s=dbs[n]: first_key(s)) for n in PURGE}
            steps.append({"wrong": wrong, "skips": skips, "best": best})
    return steps


def claims(steps: list[dict]) -> list[Claim]:
    one, last = steps[0]["best"], steps[-1]["best"]
    per_key = {s["skips"][KEYS] / ((i + 1) * FILES) for i, s in enumerate(steps)}
    return [FIRST.of(sum(s["wrong"] for s in steps)),
            KEY_SKIPS.of(per_key.pop() if len(per_key) == 1 else sorted(per_key)),
            RANGE_SKIPS.of(sum(s["skips"][RANGE] for s in steps), purges=PURGES),
            GROWS.of(last[KEYS] / one[KEYS], purges=PURGES),
            RANGE_GROWS.of(last[RANGE] / one[RANGE], purges=PURGES),
            VERSUS.of(last[KEYS] / last[RANGE], purges=PURGES),
            FLAT.of(last[SQLITE] / one[SQLITE], purges=PURGES)]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured(CLAIMS, why, purges=PURGES)
    steps = checked.result
    print(f"{FILES:,} files per host; after each purge, seek to the first live file")
    print(table(["purges", "skipped: key by key", "DeleteRange",
                 "read x SQLite's: key by key", "DeleteRange"], [
        [i + 1, f"{s['skips'][KEYS]:,}", s["skips"][RANGE],
         f"{s['best'][KEYS] / s['best'][SQLITE]:,.0f}",
         f"{s['best'][RANGE] / s['best'][SQLITE]:.1f}"]
        for i, s in enumerate(steps) if i in (0, 1, 4, 9)]))
    short = {RANGE: "DeleteRange", KEYS: "key by key", SQLITE: "SQLite"}
    chart = svg.line_chart("Reading past purged hosts: time vs after one purge",
                           "purges so far", "x the read time after one purge", {
        short[name]: [(i + 1, s["best"][name] / steps[0]["best"][name])
                      for i, s in enumerate(steps)]
        for name in PURGE})
    publish(checked.claims, figures={"purge_reads": chart})


if __name__ == "__main__":
    main()
