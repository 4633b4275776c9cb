"""The cache index both purge demos build three times: one key per cached file,
`host007/path000042`, so a host's files share a prefix, and a purge of that prefix
is a purge by host name (the three ways to purge it are in purge_cost.py)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from snippets.cloudflare_purge._rocks import rocksdb
from snippets.report import need

HOSTS, FILES, VALUE = 20, 2_000, 100  # files per host; bytes per index entry
RANGE, KEYS, SQLITE = "RocksDB DeleteRange", "RocksDB key by key", "SQLite DELETE"


def key(host: int, i: int) -> bytes:
    return b"host%03d/path%06d" % (host, i)


def prefix(host: int) -> tuple[bytes, bytes]:
    """The host's keys lie in [start, end): "0" sorts right after "/"."""
    return b"host%03d/" % host, b"host%03d0" % host


@contextlib.contextmanager
def stores(folder: Path) -> Iterator[dict]:
    """The three stores, filled with the same index: {name: (handle, options)}."""
    rows = [(key(h, i), b"v" * VALUE) for h in range(HOSTS) for i in range(FILES)]
    sql = sqlite3.connect(folder / "index.db", isolation_level=None)
    try:
        for pragma in ("page_size=4096", "journal_mode=WAL", "synchronous=NORMAL",
                       "wal_autocheckpoint=0"):  # no fsync per commit, as RocksDB;
            sql.execute(f"PRAGMA {pragma}")  # the WAL only grows while we watch it
        sql.execute("CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")
        sql.execute("BEGIN")
        sql.executemany("INSERT INTO kv VALUES (?, ?)", rows)
        sql.execute("COMMIT")
        sql.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with (rocksdb(folder / "range", auto_compact=False) as ranged,
              rocksdb(folder / "keys", auto_compact=False) as keyed):
            for db, _ in (ranged, keyed):
                batch = need("rocksdict").WriteBatch(raw_mode=True)
                for k, v in rows:
                    batch.put(k, v)
                db.write(batch)
                db.flush()  # the index on disk; purges then land in the memtable
            yield {RANGE: ranged, KEYS: keyed, SQLITE: (sql, None)}
    finally:
        sql.close()
