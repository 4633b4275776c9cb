"""A purge by prefix costs RocksDB one small log record with DeleteRange, one record
per key deleted key by key, and SQLite's B-tree every page that held the rows."""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path

from snippets.cloudflare_purge._io import scratch
from snippets.cloudflare_purge._rocks import count, tickers
from snippets.cloudflare_purge._stores import (
    FILES,
    HOSTS,
    KEYS,
    RANGE,
    SQLITE,
    VALUE,
    key,
    prefix,
    stores,
)
from snippets.measure import check_timing, paired_ratios, timed
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    at_least,
    below,
    check,
    equals,
    finding,
    need,
    publish,
    publish_unmeasured,
    table,
)

ROUNDS = 10  # purge hosts 0..9, each in all three stores in turn
ROW = len(key(0, 0)) + VALUE
START, END = (len(b) for b in prefix(0))

RECORD = finding("range-delete-record", "one DeleteRange of {files:,} keys logs "
                 "{bound}: a 12-byte batch header, a type byte and the prefix's two "
                 "bounds, each after a one-byte length",
                 equals(12 + 1 + 1 + START + 1 + END), unit="B")
KEY_LOG = finding("key-by-key-log", "deleting the same keys one by one logs {bound} "
                  "the bytes of one DeleteRange", above(100), unit="x", fmt=",.0f")
PAGES = finding("sqlite-purge-pages", "SQLite's WAL grows by {bound} the bytes of the "
                "rows its DELETE removed: whole pages, each with a 24-byte frame "
                "header", at_least(1.0), unit="x")
FASTEST = finding("range-delete-fastest", "DeleteRange takes {bound} the time of "
                  "either other purge", below(0.1), unit="x", timing=True)
LEFT = (HOSTS - ROUNDS) * FILES
SAME = check("purges-remove-same", "each purge removed {files:,} keys (key by key, "
             "SQLite) and every store holds {left:,} at the end",
             equals([[FILES], [LEFT] * 3]))
CLAIMS = [RECORD, KEY_LOG, PAGES, FASTEST, SAME]


def purge_range(db, host: int) -> int:
    db.delete_range(*prefix(host))
    return -1  # DeleteRange doesn't say how many keys it covered


def purge_keys(db, host: int) -> int:  # what DeleteRange replaces
    start, end = prefix(host)
    batch, it = need("rocksdict").WriteBatch(raw_mode=True), db.iter()
    it.seek(start)
    while it.valid() and it.key() < end:
        batch.delete(it.key())
        it.next()
    del it  # an iterator pins what it read until it goes
    count = len(batch)
    db.write(batch)
    return count


def purge_sqlite(db: sqlite3.Connection, host: int) -> int:
    return db.execute("DELETE FROM kv WHERE k BETWEEN ? AND ?", prefix(host)).rowcount


PURGE = {RANGE: purge_range, KEYS: purge_keys, SQLITE: purge_sqlite}


def logged(name: str, store) -> int:
    handle, opts = store
    if opts is not None:
        return tickers(opts)["wal.bytes"]
    wal = Path(handle.execute("PRAGMA database_list").fetchone()[2] + "-wal")
    return wal.stat().st_size


def measure() -> dict:
    log = {name: [] for name in PURGE}
    times = {name: [] for name in PURGE}
    removed = {name: [] for name in PURGE}
    with scratch() as tmp, stores(Path(tmp)) as dbs:
        for host in range(ROUNDS):
            for name, purge in PURGE.items():
                before = logged(name, dbs[name])
                took, gone = timed(lambda f=purge, db=dbs[name][0], h=host: f(db, h))
                log[name].append(logged(name, dbs[name]) - before)
                times[name].append(took)
                removed[name].append(gone)
        sql = dbs[SQLITE][0]
        left = [count(dbs[RANGE][0]), count(dbs[KEYS][0]),
                sql.execute("SELECT count(*) FROM kv").fetchone()[0]]
    return {"log": log, "times": times, "removed": removed, "left": left}


def claims(r: dict) -> list[Claim]:
    log, left = r["log"], r["left"]
    ratio = max(statistics.median(paired_ratios(r["times"], RANGE, other))
                for other in (KEYS, SQLITE))
    removed = sorted(set(r["removed"][KEYS] + r["removed"][SQLITE]))
    return [RECORD.of(max(log[RANGE]), files=FILES),
            KEY_LOG.of(min(log[KEYS]) / max(log[RANGE])),
            PAGES.of(min(log[SQLITE]) / (FILES * ROW)),
            FASTEST.of(ratio, detail=f"median of {ROUNDS} paired rounds"),
            SAME.of([removed, left], files=FILES, left=LEFT)]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured(CLAIMS, why, files=FILES, left=LEFT)
    r = checked.result
    print(f"{HOSTS} hosts x {FILES:,} files, {ROW}-byte entries; purge {ROUNDS} hosts")
    print(table(["purge by prefix", "log bytes / purge", "x the rows' bytes",
                 "time / DeleteRange's"], [
        [name, f"{statistics.median(r['log'][name]):,.0f}",
         f"{statistics.median(r['log'][name]) / (FILES * ROW):.4f}",
         f"{statistics.median(paired_ratios(r['times'], name, RANGE)):,.0f}"]
        for name in PURGE]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
