"""Bytes this process sent towards storage, from Linux's per-task I/O accounting."""

from __future__ import annotations

from pathlib import Path

PROC_IO = Path("/proc/self/io")


def write_bytes() -> int | None:
    """`write_bytes` of /proc/self/io: counted when a page of the page cache turns
    dirty (a whole page each time), for every thread of this process; None where
    the kernel doesn't keep it. It is not what the file system's own journal or
    the disk's firmware add."""
    try:
        text = PROC_IO.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return None
