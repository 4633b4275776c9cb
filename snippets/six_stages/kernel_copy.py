"""shutil.copyfile has the kernel copy the data: none of it enters Python. Python
3.8 to 3.13 use sendfile; 3.14 tries copy_file_range first."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from snippets import syscalls
from snippets.report import Claim, publish, table

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


def expected_call() -> str:
    """The kernel call this Python's copyfile tries first on Linux (Lib/shutil.py):
    copy_file_range since 3.14 (gh-81340), sendfile before."""
    return "copy_file_range" if getattr(shutil, "_USE_CP_COPY_FILE_RANGE", False) \
        else "sendfile"


@dataclass
class Copies:
    calls: dict[str, list[str]] = field(default_factory=dict)  # on the source file
    expected: str = field(default_factory=expected_call)
    identical: dict[str, bool] = field(default_factory=dict)
    reason: str = ""  # why the calls were not counted here


def measure() -> Copies:
    """Copy a 4 MiB file both ways in a child Python; trace the source file's calls."""
    result = Copies()
    python = os.path.realpath(sys.executable)
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder, "src.bin")
        src.write_bytes(os.urandom(SIZE))
        for how in HOWS:
            dst = Path(folder, "dst.bin")
            argv = [python, "-I", "-S", "-c", COPY, str(src), str(dst), how]
            try:
                result.calls[how] = syscalls.count(argv, str(src)).file_calls
            except syscalls.NotMeasured as why:
                result.reason = str(why)
                os.spawnv(os.P_WAIT, python, argv)
            result.identical[how] = dst.read_bytes() == src.read_bytes()
            dst.unlink()
    return result


def claims(c: Copies) -> list[Claim]:
    out = [Claim("both ways produce an identical copy",
                 ", ".join(h for h, same in c.identical.items() if same),
                 all(c.identical.values()))]
    if c.reason:
        return out + [Claim.not_checked("copyfile lets the kernel copy", c.reason)]
    loop, kernel, want = c.calls[HOWS[0]], c.calls[HOWS[1]], c.expected
    used = [n for n in kernel if n in KERNEL_CALLS]  # in the order they were made
    return out + [
        Claim(f"the loop reads the source {SIZE // CHUNK} times and once more for EOF",
              f"{loop.count('read')} reads", loop.count("read") == SIZE // CHUNK + 1),
        Claim(f"Python {sys.version.split()[0]}: copyfile never reads the source "
              f"into Python, and its first kernel copy call is {want}",
              f"{kernel.count('read')} reads; kernel calls: "
              f"{', '.join(used) or 'none'}",
              kernel.count("read") == 0 and used[:1] == [want]
              and 1 <= kernel.count(want) <= 3)]


def main() -> None:
    c = measure()
    print(f"copy {SIZE // 2**20} MiB; calls on the source file, by name")
    if c.reason:
        print(f"not checked here: {c.reason}")
    else:
        print(f"Python {sys.version.split()[0]}: copyfile tries {c.expected} first")
        print(table(["how", "read", *KERNEL_CALLS, "the other calls"], [
            [how, calls.count("read"), *(calls.count(n) for n in KERNEL_CALLS),
             " ".join(n for n in calls if n not in ("read", *KERNEL_CALLS))]
            for how, calls in c.calls.items()]))
    publish(claims(c))


if __name__ == "__main__":
    main()
