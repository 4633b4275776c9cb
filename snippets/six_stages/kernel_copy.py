"""shutil.copyfile has the kernel copy the data: none of it enters Python. Python
3.8 to 3.13 use sendfile; 3.14 tries copy_file_range first."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from snippets import syscalls
from snippets.report import (
    Claim,
    NotMeasurable,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

SIZE, CHUNK = 4 * 1024 * 1024, 64 * 1024
COPY = """import shutil, sys
src, dst, how = sys.argv[1:]
if how == "read/write loop":
    with open(src, "rb") as a, open(dst, "wb") as b:
        while chunk := a.read(65536):
            b.write(chunk)
else:
    shutil.copyfile(src, dst)
"""
HOWS = ["read/write loop", "shutil.copyfile"]
KERNEL_CALLS = ("copy_file_range", "sendfile")
VERSION = sys.version.split()[0]
# what shutil's documentation and source say this Python tries first on Linux:
# copy_file_range since 3.14 (gh-81340), sendfile from 3.8
DOCUMENTED = "copy_file_range" if sys.version_info >= (3, 14) else "sendfile"

IDENTICAL = check("identical-copy", "both ways produce an identical copy: {bound} of "
                  f"{len(HOWS)}", equals(len(HOWS)))
LOOP_READS = check("loop-reads", "the loop reads the source into Python: one "
                   f"read() per {CHUNK // 1024} KiB and one more for EOF, {{bound}}",
                   equals(SIZE // CHUNK + 1))
NO_READS = finding("copyfile-no-reads", "copyfile never reads the source into "
                   "Python: {bound} read() calls on it", equals(0))
FIRST_CALL = finding("copyfile-first-call", "Python {version}: copyfile's first "
                     "kernel copy call is {bound}", equals(DOCUMENTED))


@dataclass
class Copies:
    calls: dict[str, list[str]] = field(default_factory=dict)  # on the source file
    identical: list[str] = field(default_factory=list)  # the ways that copied it


def measure() -> Copies:
    """Copy a 4 MiB file both ways in a child Python; trace the source file's calls
    (raises NotMeasurable where nothing here can trace)."""
    result = Copies()
    python = os.path.realpath(sys.executable)
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder, "src.bin")
        src.write_bytes(os.urandom(SIZE))
        for how in HOWS:
            dst = Path(folder, "dst.bin")
            argv = [python, "-I", "-S", "-c", COPY, str(src), str(dst), how]
            result.calls[how] = syscalls.count(argv, str(src)).file_calls
            if dst.read_bytes() == src.read_bytes():
                result.identical.append(how)
            dst.unlink()
    return result


def claims(c: Copies) -> list[Claim]:
    loop, kernel = c.calls[HOWS[0]], c.calls[HOWS[1]]
    used = [n for n in kernel if n in KERNEL_CALLS]  # in the order they were made
    return [IDENTICAL.of(len(c.identical)), LOOP_READS.of(loop.count("read")),
            NO_READS.of(kernel.count("read")),
            FIRST_CALL.of(used[0] if used else "none", version=VERSION)]


def main() -> None:
    try:
        c = measure()
    except NotMeasurable as why:
        return publish_unmeasured([IDENTICAL, LOOP_READS, NO_READS, FIRST_CALL], why,
                                  version=VERSION)
    print(f"copy {SIZE // 2**20} MiB; calls on the source file, by name")
    print(table(["how", "read", *KERNEL_CALLS, "the other calls"], [
        [how, calls.count("read"), *(calls.count(n) for n in KERNEL_CALLS),
         " ".join(n for n in calls if n not in ("read", *KERNEL_CALLS))]
        for how, calls in c.calls.items()]))
    publish(claims(c))


if __name__ == "__main__":
    main()
