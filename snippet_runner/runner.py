"""Run one snippet in its own process group, bounded by a timeout, with a result cache.

A run is cached under a hash of everything that can change its output: the snippet,
the local modules it imports, the data files of its package (programs it compiles),
the lock files, the Python build and the kernel release.
Only runs that succeeded and whose claims all held are cached: a run with a claim
*not checked here* (a busy machine, a missing tool) is tried again next build.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from snippet_runner import zygote

OUTPUT_DIR_ENV = "SNIPPET_OUTPUT_DIR"  # the same name snippets/report.py reads
STDERR_TAIL = 15
CACHE_VERSION = "1"
LOCK_FILES = ("requirements.lock", "requirements-runtimes.lock")


class SnippetFailure(Exception):
    """A snippet raised, exited non-zero, timed out, or broke one of its claims."""


@dataclass
class SnippetRun:
    path: str  # relative to the project root, e.g. snippets/threads/io_bound.py
    command: str  # what a reader types to run it
    stdout: str
    stderr: str
    seconds: float
    claims: list[dict] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    cached: bool = False
    measured_at: float = 0.0  # Unix time the run finished (cached runs keep theirs)

    @property
    def unchecked(self) -> list[dict]:
        return [c for c in self.claims if c.get("held") is None]


def module_name(rel_path: str) -> str:
    return rel_path.removesuffix(".py").replace("/", ".")


# What a file imports, by (path, mtime, size): `mkdocs serve` asks for every
# snippet's cache key on each rebuild, and parsing every file each time is slow.
_DIRECT: dict[tuple, list[Path]] = {}
_BYTES: dict[tuple, bytes] = {}


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size)


def _direct_imports(root: Path, path: Path, text: str) -> list[Path]:
    tree = ast.parse(text, filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the file's package
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                prefix = ".".join(base.relative_to(root).parts)
                mod = f"{prefix}.{node.module}" if node.module else prefix
            else:
                mod = node.module or ""
            names.append(mod)
            names += [f"{mod}.{a.name}" for a in node.names]
    found = []
    for name in names:
        parts = name.split(".")
        for candidate in (root.joinpath(*parts).with_suffix(".py"),
                          root.joinpath(*parts, "__init__.py")):
            if candidate.is_file() and candidate not in found:
                found.append(candidate)
    return found


def local_imports(root: Path, path: Path, seen: set[Path] | None = None,
                  source: str | None = None) -> set[Path]:
    """The files of the project's own modules that `path` imports, transitively.

    `source` stands in for the file's text (a notebook's code cells, say).
    """
    seen = set() if seen is None else seen
    seen.add(path)
    if source is not None:
        direct = _direct_imports(root, path, source)
    else:
        key = _stamp(path)
        if key not in _DIRECT:
            _DIRECT[key] = _direct_imports(root, path, path.read_text("utf-8"))
        direct = _DIRECT[key]
    for candidate in direct:
        if candidate not in seen:
            local_imports(root, candidate, seen)
    return seen


def file_bytes(path: Path) -> bytes:
    """A file's bytes, read once per change of its mtime or size."""
    key = _stamp(path)
    if key not in _BYTES:
        _BYTES[key] = path.read_bytes()
    return _BYTES[key]


def data_files(snippet: Path) -> set[Path]:
    """Files a snippet may read that are not modules it imports: anything in its
    package's subfolders (programs it compiles or runs) and non-Python files."""
    package = snippet.parent
    return {p for p in package.rglob("*") if p.is_file()
            and "__pycache__" not in p.parts
            and (p.parent != package or p.suffix != ".py")}


def environment_key() -> str:
    return "|".join([sys.version, sys.executable, platform.release(),
                     platform.machine(), str(os.cpu_count())])


def locked_environment(root: Path):
    """A hash started with what every run depends on: Python, kernel, lock files."""
    digest = hashlib.sha256(f"{CACHE_VERSION}|{environment_key()}".encode())
    for name in LOCK_FILES:
        if (root / name).is_file():
            digest.update(file_bytes(root / name))
    return digest


def cache_key(root: Path, rel_path: str) -> str:
    digest = locked_environment(root)
    snippet = root / rel_path
    for dep in sorted(local_imports(root, snippet) | data_files(snippet)):
        digest.update(str(dep.relative_to(root)).encode())
        digest.update(file_bytes(dep))
    return digest.hexdigest()


def _kill_group(pgid: int) -> bool:
    """SIGKILL the process group; True if anything in it was still alive."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _tail(text: str, lines: int = STDERR_TAIL) -> str:
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in kept) or "    | (stderr was empty)"


def _spawn(root: Path, module: str, env: dict[str, str], stdout: Path, stderr: Path,
           timeout: float) -> tuple[int, bool, int]:
    """`python -m module` as a new process: (returncode, timed out, its pid)."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", module], cwd=root, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, timed_out, proc.pid


def execute(root: Path, rel_path: str, timeout: float) -> SnippetRun:
    """Run `python -m <module>` from the project root; SnippetFailure on any fault.

    The process is forked from a zygote that has the standard library imported
    (see `zygote`), else started anew; either way it is `python -m <module>`."""
    module = module_name(rel_path)
    command = f"python -m {module}"
    with tempfile.TemporaryDirectory(prefix="snippet-") as out:
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1",
                   PYTHONDONTWRITEBYTECODE="1")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(root), env.get("PYTHONPATH", "")) if p)
        streams = Path(out) / "_stdout", Path(out) / "_stderr"
        start = time.perf_counter()
        try:
            starter = zygote.borrow(root, env)
            try:
                returncode, timed_out, pid = starter.run(
                    module, *streams, {OUTPUT_DIR_ENV: out}, timeout, _kill_group)
            finally:
                zygote.give_back(starter, root, env)
        except zygote.Lost as error:
            # (run() has already killed the snippet's process group)
            raise SnippetFailure(f"{rel_path}: {error}; it was not run again\n"
                                 f"  run it by hand: {command}") from None
        except zygote.Unavailable:
            start = time.perf_counter()
            returncode, timed_out, pid = _spawn(
                root, module, dict(env, **{OUTPUT_DIR_ENV: out}), *streams, timeout)
        seconds = time.perf_counter() - start
        left_running = _kill_group(pid)
        stdout, stderr = (p.read_text(errors="replace") for p in streams)
        claims_file = Path(out) / "claims.json"
        claims = json.loads(claims_file.read_text()) if claims_file.is_file() else None
        figures = {p.stem: p.read_text(encoding="utf-8")
                   for p in sorted(Path(out).glob("*.svg"))}

    def fail(what: str) -> SnippetFailure:
        return SnippetFailure(
            f"{rel_path}: {what}\n  last lines of its stderr:\n{_tail(stderr)}\n"
            f"  run it by hand: {command}")

    if timed_out:
        raise fail(f"timed out after {timeout:g} s; its process group was killed")
    if claims is not None and any(c["held"] is False for c in claims):
        broken = "; ".join(f"{c['statement']} ({c['evidence']})"
                           for c in claims if c["held"] is False)
        raise fail(f"a claim did not hold: {broken}")
    if returncode != 0:
        raise fail(f"exited with status {returncode}")
    if left_running:
        raise fail("exited but left processes running (they were killed)")
    if claims is None:
        raise fail("exited 0 without publishing its claims "
                   "(did it exit early, or never call report.publish()?)")
    return SnippetRun(rel_path, command, stdout, stderr, seconds, claims, figures,
                      measured_at=time.time())


def cached_run(root: Path, rel_path: str, cache_dir: Path | None) -> SnippetRun | None:
    """The cached run of an unchanged snippet, or None."""
    if cache_dir is None:
        return None
    entry = cache_dir / f"{cache_key(root, rel_path)}.json"
    if not entry.is_file():
        return None
    run = SnippetRun(**json.loads(entry.read_text(encoding="utf-8")))
    run.cached = True
    return run


def run_snippet(root: Path, rel_path: str, timeout: float, cache_dir: Path | None,
                fresh: bool = False) -> SnippetRun:
    """Return the cached run of an unchanged snippet, else execute and cache it."""
    hit = None if fresh else cached_run(root, rel_path, cache_dir)
    if hit:
        return hit
    key = cache_key(root, rel_path) if cache_dir else None  # before it runs
    run = execute(root, rel_path, timeout)
    if cache_dir and key and not run.unchecked:
        entry = cache_dir / f"{key}.json"
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(run)), encoding="utf-8")
        tmp.replace(entry)
    return run
