"""Where the demos' database files go, and the bytes this process sent towards
storage, from Linux's per-task I/O accounting."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from snippets.report import OUTPUT_DIR_ENV

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


def scratch() -> tempfile.TemporaryDirectory:
    """A temporary folder for database files, removed on the way out. Under the site
    build it lies inside the folder the build gives each run and deletes afterwards,
    so even a run killed at its timeout leaves no data file behind."""
    return tempfile.TemporaryDirectory(prefix="cloudflare-purge-",
                                       dir=os.environ.get(OUTPUT_DIR_ENV) or None)
