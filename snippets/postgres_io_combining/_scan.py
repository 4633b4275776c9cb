"""What the io-combining demos share: a table, a cold traced query, its reads.

`cold_reads(server, relfile, query, label)` restarts the server under
`strace -ff -y` (one trace file per process: the backend and every io worker),
drops the table file's pages from the OS page cache, runs the query, stops, and
returns every pread64/preadv/preadv2 call made on the table's file, with the kind of
process that made it. `each_version(fn)` runs `fn(major)` for PostgreSQL 15 to 18,
two servers at a time (the demos that do this time nothing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from snippets.pg_server import VERSIONS, Server

T = TypeVar("T")
ROWS = 20_000
SETUP = ["CREATE TABLE t (id int, pad int8)",
         f"INSERT INTO t SELECT g, g FROM generate_series(1, {ROWS}) g",
         "VACUUM (FREEZE) t", "CHECKPOINT"]
PAGES = 109  # what those rows take in 8 KiB heap pages (seq_scan checks it)
COMBINING = (17, 18)  # the versions with io_combine_limit (settings.py checks it)
CALL = re.compile(r"^(pread64|preadv2?)\(\d+<([^>]*)>.* = (-?\d+)$")
KIB = 1024


@dataclass
class Reads:
    """The reads of the table's file during one query."""

    label: str
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # who, call, bytes
    answer: str = ""

    @property
    def sizes(self) -> list[int]:
        return [size for _, _, size in self.calls]

    @property
    def total(self) -> int:
        return sum(self.sizes)

    @property
    def kib(self) -> list[int]:
        return [size // KIB for size in self.sizes]

    def by(self, who: str) -> int:
        return sum(1 for w, _, _ in self.calls if w == who)

    def names(self) -> set[str]:
        return {call for _, call, _ in self.calls}


def server(major: int) -> Server:
    """A server for tracing reads: 18 reads in the backend (io_method sync), as
    15-17 always do; `io_workers.py` shows the io workers."""
    return Server(major, **({"io_method": "sync"} if major >= 18 else {}))


def combine(major: int, limit: int | None) -> dict:
    """The settings for io_combine_limit = limit (none before 17); above 16 blocks
    18 needs io_max_combine_limit raised too, a server-start setting."""
    if major not in COMBINING or limit is None:
        return {}
    cap = {"io_max_combine_limit": limit} if major >= 18 and limit > 16 else {}
    return {"io_combine_limit": limit, **cap}


def each_version(fn: Callable[[int], T],
                 versions: tuple[int, ...] = VERSIONS) -> dict[int, T]:
    """fn(major) for each version, two at a time: {major: result}."""
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(versions, pool.map(fn, versions)))


def ramp(pages: int, limit: int) -> list[int]:
    """Read sizes if the look-ahead doubles from one page, each read capped at limit."""
    sizes, distance = [], 1
    while pages:
        sizes.append(min(distance, limit, pages) * 8 * KIB)
        pages -= sizes[-1] // (8 * KIB)
        distance *= 2
    return sizes


def create_table(pg: Server) -> tuple[str, int]:
    """Make the table; return its file (from the data dir) and its size in pages."""
    pg.sql(*SETUP)
    size = "pg_relation_size('t') / current_setting('block_size')::int"
    path, pages = pg.sql(f"SELECT pg_relation_filepath('t'), {size}")[0].split("|")
    return path, int(pages)


def evict(path: Path) -> None:
    """Write back and drop the file's pages from the page cache (no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _who(pid: int, backend: int) -> str:
    if pid == backend:
        return "backend"
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return "gone"
    return "io worker" if "io worker" in title else title.strip("\0 ") or "other"


def cold_reads(pg: Server, relfile: str, query: str, label: str,
               **settings: object) -> Reads:
    """Run query on a cold table under strace; the reads made of its file."""
    traces = pg.root / f"trace-{label.replace(' ', '_')}"
    traces.mkdir()
    pg.restart(trace=traces / "t", **settings)
    table = pg.data / relfile
    evict(table)
    backend, answer = pg.sql("SELECT pg_backend_pid()", query)
    files = sorted(traces.glob("t.*"), key=lambda f: int(f.suffix[1:]))
    who = {int(f.suffix[1:]): _who(int(f.suffix[1:]), int(backend)) for f in files}
    pg.shutdown(mode="fast")  # strace exits with its tracees: files complete
    reads = Reads(label, answer=answer)
    for f in sorted(traces.glob("t.*"), key=lambda f: int(f.suffix[1:])):
        for line in f.read_text(errors="replace").splitlines():
            match = CALL.match(line)
            if match and match[2] == str(table):
                reads.calls.append((who.get(int(f.suffix[1:]), "gone"), match[1],
                                    int(match[3])))
    return reads


def sizes_text(sizes: list[int]) -> str:
    """8192, 8192, 16384 -> '2 × 8K, 16K' (runs of equal sizes collapsed)."""
    runs: list[list[int]] = []
    for size in sizes:
        if runs and runs[-1][0] == size:
            runs[-1][1] += 1
        else:
            runs.append([size, 1])
    return ", ".join(f"{n} × {s // KIB}K" if n > 1 else f"{s // KIB}K"
                     for s, n in runs) or "-"


def label(major: int, limit: int | None) -> str:
    """'PG15', 'PG17 combine 16': how tables and charts name a run."""
    return f"PG{major}" if limit is None else f"PG{major} combine {limit}"
