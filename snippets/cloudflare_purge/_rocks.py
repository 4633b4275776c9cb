"""RocksDB (rocksdict from PyPI) opened the same way by every demo of this episode:
raw bytes, no compression (so bytes written are the bytes we gave it) and
statistics on, whose tickers are exact counters. rocksdict is imported when a demo
opens a database, so a Python without it says what to install instead."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from snippets.report import need

if TYPE_CHECKING:
    from rocksdict import Options, Rdict

TICKERS = ("wal.bytes", "wal.synced", "flush.write.bytes", "compact.write.bytes",
           "number.iter.skip")


@contextlib.contextmanager
def rocksdb(path: Path, sync: bool = False, auto_compact: bool = True,
            memtable: int | None = None) -> Iterator[tuple[Rdict, Options]]:
    """A database at path, closed on the way out (the caller owns the folder)."""
    rd = need("rocksdict")
    opts = rd.Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.enable_statistics()
    opts.set_compression_type(rd.DBCompressionType.none())
    opts.set_disable_auto_compactions(not auto_compact)
    if memtable:
        opts.set_write_buffer_size(memtable)
    db = rd.Rdict(str(path), opts)
    try:
        if sync:  # one durable commit per write: fsync the WAL on every put
            writes = rd.WriteOptions()
            writes.sync = True
            db.set_write_options(writes)
        yield db, opts
    finally:
        db.close()


def tickers(opts: Options) -> dict[str, int]:
    """The counters we use, by short name: `rocksdb.wal.bytes` -> `wal.bytes`."""
    found = {}
    for line in opts.get_statistics().splitlines():
        name, _, rest = line.partition(" COUNT : ")
        short = name.removeprefix("rocksdb.")
        if short in TICKERS:
            found[short] = int(rest)
    return found


def count(db: Rdict) -> int:
    """Keys a full scan finds (an Rdict has `keys()` but is not itself iterable)."""
    return sum(1 for _ in db.keys())  # noqa: SIM118


def version(path: Path) -> str:
    """The RocksDB release that wrote the database, from its OPTIONS file."""
    for options in sorted(path.glob("OPTIONS-*")):
        for line in options.read_text().splitlines():
            if line.strip().startswith("rocksdb_version="):
                return line.split("=", 1)[1].strip()
    return "unknown"


def log_bytes(path: Path) -> int:
    """Bytes in the database's write-ahead log files, as the file system sees them."""
    return sum(f.stat().st_size for f in path.glob("*.log"))


def disk_bytes(db: Rdict) -> int:
    """Bytes in the live SST files: what the table holds on disk after a flush."""
    return sum(f["size"] for f in db.live_files())
