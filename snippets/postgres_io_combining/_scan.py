"""What the io-combining demos share: a cold table, a traced query, its reads.

`cold_reads(server, query)` restarts the server under `strace -ff -y` (one trace
file per process: the backend and every io worker), drops the table file's pages
from the OS page cache, runs the query, stops, and returns every pread64/preadv/
preadv2 call made on the table's file, with the kind of process that made it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from snippets.pg_server import Server

ROWS = 20_000
SETUP = ["CREATE TABLE t (id int, pad int8)",
         f"INSERT INTO t SELECT g, g FROM generate_series(1, {ROWS}) g",
         "VACUUM (FREEZE) t", "CHECKPOINT"]
PAGES = 109  # what those rows take in 8 KiB heap pages (seq_scan checks it)
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


def create_table(server: Server) -> tuple[str, int]:
    """Make the table; return its file (from the data dir) and its size in pages."""
    server.sql(*SETUP)
    size = "pg_relation_size('t') / current_setting('block_size')::int"
    path, pages = server.sql(f"SELECT pg_relation_filepath('t'), {size}")[0].split("|")
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


def cold_reads(server: Server, relfile: str, query: str, label: str,
               **settings: object) -> Reads:
    """Run query on a cold table under strace; the reads made of its file."""
    traces = server.root / f"trace-{label.replace(' ', '_')}"
    traces.mkdir()
    server.restart(trace=traces / "t", **settings)
    table = server.data / relfile
    evict(table)
    backend, answer = server.sql("SELECT pg_backend_pid()", query)
    files = sorted(traces.glob("t.*"), key=lambda f: int(f.suffix[1:]))
    who = {int(f.suffix[1:]): _who(int(f.suffix[1:]), int(backend)) for f in files}
    server.shutdown(mode="fast")  # strace exits with its tracees: files complete
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


def count_calls(reads: Reads) -> Counter:
    return Counter(call for _, call, _ in reads.calls)
