"""shutil.copyfile has the kernel copy the data (sendfile): none of it enters Python."""

from __future__ import annotations

import os
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


@dataclass
class Copies:
    calls: dict[str, list[str]] = field(default_factory=dict)  # on the source file
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
        return out + [Claim("calls not counted here, and the output says why",
                            c.reason, True)]
    loop, kernel = c.calls[HOWS[0]], c.calls[HOWS[1]]
    return out + [
        Claim(f"the loop reads the source {SIZE // CHUNK} times and once more for EOF",
              f"{loop.count('read')} reads", loop.count("read") == SIZE // CHUNK + 1),
        Claim("copyfile never reads the source into Python: sendfile does it",
              f"{kernel.count('read')} reads, {kernel.count('sendfile')} sendfile",
              kernel.count("read") == 0 and 1 <= kernel.count("sendfile") <= 3)]


def main() -> None:
    c = measure()
    print(f"copy {SIZE // 2**20} MiB; calls on the source file, by name")
    if c.reason:
        print(f"not measured here: {c.reason}")
    else:
        print(table(["how", "read", "sendfile", "the other calls"], [
            [how, calls.count("read"), calls.count("sendfile"),
             " ".join(n for n in calls if n not in ("read", "sendfile"))]
            for how, calls in c.calls.items()]))
    publish(claims(c))


if __name__ == "__main__":
    main()
