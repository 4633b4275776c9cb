"""One durable commit per write: a B-tree (SQLite) writes whole pages per commit,
an LSM (RocksDB) appends the record to its log."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from snippets.cloudflare_purge._io import scratch, write_bytes
from snippets.cloudflare_purge._rocks import log_bytes, rocksdb, tickers
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    at_least,
    below,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

ROWS, KEY, VALUE = 50, 9, 100  # bytes: b"k%08d" keys, random values
USER, PAGE = ROWS * (KEY + VALUE), 4096  # SQLite's page size, pinned
MODES = [("DELETE", "FULL"), ("WAL", "FULL"), ("WAL", "NORMAL")]
FSYNC, NO_FSYNC = "RocksDB, fsync per put", "RocksDB, no fsync"

RECORD = finding("rocksdb-record", "RocksDB's log takes {bound} per put: a 12-byte "
                 "batch header, a type byte, the key and the value each after a "
                 "one-byte length", equals(12 + 1 + 1 + KEY + 1 + VALUE), unit="B")
LOG = finding("rocksdb-log", "with an fsync per put, RocksDB's log file grows by "
              "{bound} the user's bytes", below(1.5), unit="x")
FRAME = finding("sqlite-frame", "each SQLite WAL commit appends {bound} to its log "
                "(a page and a 24-byte frame header)", at_least(PAGE + 24), unit="B")
WAL_VS_LOG = finding("wal-vs-log", "for the same commits, SQLite's WAL grows {bound} "
                     "as much as RocksDB's log", above(10), unit="x", fmt=".0f")
SYNCS = check("rocksdb-syncs", "RocksDB synced its log once per put with sync on and "
              "never without ({rows} puts each)", equals([ROWS, 0]))
ASKED = check("sqlite-settings", "SQLite runs with the page size/journal/synchronous "
              "asked for, read back", equals([f"{PAGE}/delete/2", f"{PAGE}/wal/2",
                                              f"{PAGE}/wal/1"]))
PAGES = finding("sqlite-page-per-commit", "in every journal mode, SQLite dirties "
                "{bound} per commit", at_least(PAGE), unit="B")
SHARE = finding("rocksdb-unsynced-share", "RocksDB without an fsync per put dirties "
                "{bound} SQLite's least per commit", below(0.2), unit="x")
SYNCED = finding("rocksdb-synced-page", "with an fsync per put RocksDB dirties about "
                 "a page per commit too: {bound}", at_least(0.9 * PAGE), unit="B")
STORAGE = [PAGES, SHARE, SYNCED]
UNCOUNTED = "/proc/self/io is missing or counted nothing (a temporary folder on tmpfs?)"


@dataclass(frozen=True)
class Run:
    log: int | None  # bytes its log file grew by (None: DELETE removes its journal)
    io: int | None  # /proc/self/io write_bytes over the puts (None: not counted)
    settings: str = ""  # SQLite's page size/journal/synchronous, as read back
    syncs: int = 0  # RocksDB's wal.synced ticker
    logged: int = 0  # RocksDB's wal.bytes ticker: the bytes of its log records


def records() -> list[tuple[bytes, bytes]]:
    return [(b"k%08d" % i, os.urandom(VALUE)) for i in range(ROWS)]


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def sqlite_run(folder: Path, journal: str, sync: str) -> Run:
    db = sqlite3.connect(folder / f"{journal}-{sync}.db", isolation_level=None)
    try:
        db.execute(f"PRAGMA page_size={PAGE}")
        db.execute(f"PRAGMA journal_mode={journal}")
        db.execute(f"PRAGMA synchronous={sync}")
        db.execute("CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")
        wal = folder / f"{journal}-{sync}.db-wal"  # gone at close: read it before
        start, before = size(wal), write_bytes()
        for row in records():  # autocommit: one transaction per row
            db.execute("INSERT INTO kv VALUES (?, ?)", row)
        after = write_bytes()
        settings = "/".join(str(db.execute(f"PRAGMA {p}").fetchone()[0])
                            for p in ("page_size", "journal_mode", "synchronous"))
        log = size(wal) - start if journal == "WAL" else None
    finally:
        db.close()
    return Run(log, None if before is None else after - before, settings)


def rocksdb_run(folder: Path, sync: bool) -> Run:
    path = folder / f"rocks-{sync}"
    with rocksdb(path, sync=sync) as (db, opts):
        start, before, first = log_bytes(path), write_bytes(), tickers(opts)
        for key, value in records():
            db.put(key, value)
        after, log, last = write_bytes(), log_bytes(path) - start, tickers(opts)
    return Run(log, None if before is None else after - before,
               syncs=last["wal.synced"] - first["wal.synced"],
               logged=last["wal.bytes"] - first["wal.bytes"])


def measure() -> dict[str, Run]:
    with scratch() as tmp:
        folder = Path(tmp)
        runs = {f"SQLite {j}/{s}": sqlite_run(folder, j, s) for j, s in MODES}
        runs[FSYNC] = rocksdb_run(folder, sync=True)
        runs[NO_FSYNC] = rocksdb_run(folder, sync=False)
    return runs


def counted(runs: dict[str, Run]) -> bool:
    """Whether /proc/self/io counted the puts (not on tmpfs, nor where it's absent)."""
    return all(r.io for r in runs.values())


def claims(runs: dict[str, Run]) -> list[Claim]:
    """What the logs show; what /proc/self/io shows too, if it counted the puts."""
    sqlite = [r for name, r in runs.items() if name.startswith("SQLite")]
    fsync, lazy = runs[FSYNC], runs[NO_FSYNC]
    out = [RECORD.of(fsync.logged / ROWS), LOG.of(fsync.log / USER),
           FRAME.of(min(r.log for r in sqlite if r.log is not None) / ROWS),
           WAL_VS_LOG.of(runs["SQLite WAL/FULL"].log / fsync.log),
           SYNCS.of([fsync.syncs, lazy.syncs], rows=ROWS),
           ASKED.of([r.settings for r in sqlite])]
    if not counted(runs):
        return out
    least = min(r.io for r in sqlite) / ROWS
    return out + [PAGES.of(least), SHARE.of(lazy.io / ROWS / least),
                  SYNCED.of(fsync.io / ROWS)]


def main() -> None:
    try:
        runs = measure()
    except NotMeasurable as why:
        return publish_unmeasured([RECORD, LOG, FRAME, WAL_VS_LOG, SYNCS, ASKED,
                                   *STORAGE], why, rows=ROWS)
    print(f"{ROWS} rows of {KEY + VALUE} bytes, one commit each; "
          f"SQLite {sqlite3.sqlite_version}")
    print(table(["engine, journal/synchronous", "log bytes / user byte",
                 "write_bytes / row"], [
        [name, "-" if r.log is None else f"{r.log / USER:.2f}",
         "-" if r.io is None else f"{r.io / ROWS:,.0f}"] for name, r in runs.items()]))
    publish(claims(runs))
    if not counted(runs):
        publish_unmeasured(STORAGE, UNCOUNTED)


if __name__ == "__main__":
    main()
