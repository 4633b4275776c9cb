"""Deleting in an LSM writes tombstones: a scan steps over them until compaction
drops them."""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from pathlib import Path

from snippets.cloudflare_purge._io import scratch
from snippets.cloudflare_purge._rocks import count, disk_bytes, rocksdb, tickers
from snippets.measure import check_timing, paired_ratios, rounds
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    check,
    equals,
    finding,
    need,
    publish,
    publish_unmeasured,
    table,
)

KEYS, KEEP, VALUE, ROUNDS = 50_000, 10, 100, 7  # delete all keys but every 5,000th

FOUND = check("scans-find-kept", "both scans find the {keep} keys left",
              equals([KEEP, KEEP]))
SKIPS = finding("skips-per-delete", "before compaction a scan steps over {bound} "
                "entries per deleted key: its tombstone and its value", equals(2))
CLEAN = finding("skips-after-compaction", "after compaction a scan steps over {bound} "
                "entries", equals(0))
SHRINK = finding("compaction-shrinks", "compaction shrinks the files {bound}",
                 above(100), unit="x", fmt=",.0f")
SLOWER = finding("tombstone-scan-slower", "the scan over tombstones is {bound} "
                 "slower than after compaction", above(10), unit="x", fmt=",.0f",
                 timing=True)


def load(db, hold: bool = False):
    """Put every key, flush; delete all but KEEP of them, flush (two sorted files).
    With hold, return a snapshot taken between the two."""
    rd, snapshot = need("rocksdict"), None
    for keep_only in (False, True):
        if keep_only and hold:
            snapshot = db.snapshot()
        batch = rd.WriteBatch(raw_mode=True)
        for i in range(KEYS):
            key = b"key%08d" % i
            if not keep_only:
                batch.put(key, b"v" * VALUE)
            elif i % (KEYS // KEEP):
                batch.delete(key)
        db.write(batch)
        db.flush()
    return snapshot


def scan(db) -> int:
    return count(db)


def skips(db, opts) -> int:
    """Entries a full scan steps over, by the `number.iter.skip` ticker."""
    before = tickers(opts)["number.iter.skip"]
    scan(db)
    return tickers(opts)["number.iter.skip"] - before


def measure() -> dict:
    with scratch() as tmp, ExitStack() as stack:
        dbs = {name: stack.enter_context(rocksdb(Path(tmp) / name,
                                                 auto_compact=False))
               for name in ("tombstones", "compacted")}
        for db, _ in dbs.values():
            load(db)
        dbs["compacted"][0].compact_range(None, None)
        out = {}
        for name, (db, opts) in dbs.items():
            out[name] = {"found": scan(db), "disk": disk_bytes(db),
                         "skipped": skips(db, opts)}
        times = rounds(ROUNDS, {name: lambda db=db: scan(db)
                                for name, (db, _) in dbs.items()})
    ratio = statistics.median(paired_ratios(times, "tombstones", "compacted"))
    return {"dbs": out, "ratio": ratio}


def claims(r: dict) -> list[Claim]:
    t, c = r["dbs"]["tombstones"], r["dbs"]["compacted"]
    return [FOUND.of([t["found"], c["found"]], keep=KEEP),
            SKIPS.of(t["skipped"] / (KEYS - KEEP)),
            CLEAN.of(c["skipped"]),
            SHRINK.of(t["disk"] / c["disk"]),
            SLOWER.of(r["ratio"], detail=f"median of {ROUNDS} paired rounds")]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured([FOUND, SKIPS, CLEAN, SHRINK, SLOWER], why,
                                  keep=KEEP)
    r = checked.result
    print(f"{KEYS:,} keys put, all but {KEEP} deleted, then a full scan")
    print(table(["database", "keys found", "entries skipped", "bytes on disk"], [
        [name, v["found"], f"{v['skipped']:,}", f"{v['disk']:,}"]
        for name, v in r["dbs"].items()]))
    print(f"scan time, tombstones / compacted: {r['ratio']:,.0f}x")
    publish(checked.claims)


if __name__ == "__main__":
    main()
