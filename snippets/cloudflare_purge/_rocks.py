"""RocksDB (rocksdict from PyPI) opened the same way by every demo of this episode:
raw bytes, no compression (so bytes written are the bytes we gave it) and
statistics on, whose tickers are exact counters."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from rocksdict import DBCompressionType, Options, Rdict, WriteOptions

TICKERS = ("bytes.written", "wal.bytes", "wal.synced", "flush.write.bytes",
           "compact.write.bytes", "number.iter.skip")


@contextlib.contextmanager
def rocksdb(path: Path, sync: bool = False, auto_compact: bool = True,
            memtable: int | None = None) -> Iterator[tuple[Rdict, Options]]:
    """A database at path, closed on the way out (the caller owns the folder)."""
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.enable_statistics()
    opts.set_compression_type(DBCompressionType.none())
    opts.set_disable_auto_compactions(not auto_compact)
    if memtable:
        opts.set_write_buffer_size(memtable)
    db = Rdict(str(path), opts)
    try:
        if sync:  # one durable commit per write: fsync the WAL on every put
            writes = WriteOptions()
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


def disk_bytes(db: Rdict) -> int:
    """Bytes in the live SST files: what the table holds on disk after a flush."""
    return sum(f["size"] for f in db.live_files())
