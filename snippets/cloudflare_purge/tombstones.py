"""Deleting in an LSM writes tombstones: a scan steps over them until compaction
drops them."""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from pathlib import Path

from rocksdict import WriteBatch

from snippets.cloudflare_purge._io import scratch
from snippets.cloudflare_purge._rocks import disk_bytes, rocksdb, tickers
from snippets.measure import check_timing, paired_ratios, rounds
from snippets.report import Claim, publish, table

KEYS, KEEP, VALUE = 50_000, 10, 100  # delete all keys but every 5,000th


def load(db) -> None:
    """Put every key, flush; delete all but KEEP of them, flush (two sorted files)."""
    for keep_only in (False, True):
        batch = WriteBatch(raw_mode=True)
        for i in range(KEYS):
            key = b"key%08d" % i
            if not keep_only:
                batch.put(key, b"v" * VALUE)
            elif i % (KEYS // KEEP):
                batch.delete(key)
        db.write(batch)
        db.flush()


def scan(db) -> int:
    return sum(1 for _ in db.keys())


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
            before = tickers(opts)["number.iter.skip"]
            found = scan(db)
            out[name] = {"found": found, "disk": disk_bytes(db),
                         "skipped": tickers(opts)["number.iter.skip"] - before}
        times = rounds(7, {name: lambda db=db: scan(db)
                           for name, (db, _) in dbs.items()})
    ratio = statistics.median(paired_ratios(times, "tombstones", "compacted"))
    return {"dbs": out, "ratio": ratio}


def claims(r: dict) -> list[Claim]:
    t, c, deleted = r["dbs"]["tombstones"], r["dbs"]["compacted"], KEYS - KEEP
    return [
        Claim(f"both scans find the {KEEP} keys left", f"{t['found']}, {c['found']}",
              t["found"] == c["found"] == KEEP),
        Claim("before compaction a scan skips each deleted key's tombstone and value",
              f"number.iter.skip = {t['skipped']:,}", t["skipped"] == 2 * deleted),
        Claim("after compaction it skips nothing", f"{c['skipped']:,}",
              c["skipped"] == 0),
        Claim("compaction shrinks the files over 100x",
              f"{t['disk'] / c['disk']:,.0f}x", t["disk"] > 100 * c["disk"]),
        Claim("the scan over tombstones is over 10x slower (median of paired rounds)",
              f"{r['ratio']:,.0f}x", r["ratio"] > 10, timing=True),
    ]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{KEYS:,} keys put, all but {KEEP} deleted, then a full scan")
    print(table(["database", "keys found", "entries skipped", "bytes on disk"], [
        [name, v["found"], f"{v['skipped']:,}", f"{v['disk']:,}"]
        for name, v in r["dbs"].items()]))
    print(f"scan time, tombstones / compacted: {r['ratio']:,.0f}x")
    publish(checked.claims)


if __name__ == "__main__":
    main()
