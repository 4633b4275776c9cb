"""An LSM pays for its cheap appends later: flushes and compactions rewrite the data."""

from __future__ import annotations

import random
from pathlib import Path

from snippets.cloudflare_purge._io import scratch
from snippets.cloudflare_purge._rocks import count, disk_bytes, rocksdb, tickers
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    at_least,
    between,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

KEYS, VALUE, MEMTABLE = 20_000, 100, 256 * 1024  # a small memtable: many flushes
STAGES = ["wal.bytes", "flush.write.bytes", "compact.write.bytes"]

ENTRIES = check("all-keys-once", "after compaction a scan finds every key once",
                equals(KEYS))
LOGGED = finding("log-once", "the log takes each record once: {bound} the user's "
                 "bytes", between(1.0, 1.5), unit="x")
FLUSHED = finding("flush-rewrites", "flushes write every record again, into sorted "
                  "files: {bound} the user's bytes", at_least(1.0), unit="x")
COMPACTED = finding("compaction-rewrites", "compaction rewrites it at least once "
                    "more: {bound} the user's bytes", at_least(1.0), unit="x")
TOTAL = finding("write-amplification", "in all, RocksDB writes {bound} the user's "
                "bytes", above(3.0), unit="x")


def measure() -> dict:
    keys = [b"k%08d" % i for i in range(KEYS)]
    random.Random(11).shuffle(keys)  # arrival order is not key order
    with scratch() as tmp, rocksdb(Path(tmp) / "db", memtable=MEMTABLE) as (db, opts):
        for key in keys:
            db.put(key, b"v" * VALUE)
        loaded = tickers(opts)
        db.flush()
        db.compact_range(None, None)  # what the background would do in time
        final = tickers(opts)
        entries = count(db)
        on_disk = disk_bytes(db)
    return {"user": KEYS * (len(keys[0]) + VALUE), "loaded": loaded,
            "final": final, "entries": entries, "disk": on_disk}


def claims(r: dict) -> list[Claim]:
    user, f = r["user"], r["final"]
    return [ENTRIES.of(r["entries"]),
            LOGGED.of(f["wal.bytes"] / user),
            FLUSHED.of(f["flush.write.bytes"] / user),
            COMPACTED.of(f["compact.write.bytes"] / user),
            TOTAL.of(sum(f[s] for s in STAGES) / user)]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured([ENTRIES, LOGGED, FLUSHED, COMPACTED, TOTAL], why)
    user = r["user"]
    print(f"{KEYS:,} puts of {user // KEYS} bytes in random key order, "
          f"{MEMTABLE // 1024} KiB memtable, no compression")
    rows = [[s, f"{r['loaded'][s] / user:.2f}", f"{r['final'][s] / user:.2f}"]
            for s in STAGES]
    rows.append(["total", f"{sum(r['loaded'][s] for s in STAGES) / user:.2f}",
                 f"{sum(r['final'][s] for s in STAGES) / user:.2f}"])
    print(table(["ticker (x user bytes)", "after the puts", "after compact_range"],
                rows))
    print(f"on disk after compaction: {r['disk'] / user:.2f}x user bytes")
    publish(claims(r))


if __name__ == "__main__":
    main()
