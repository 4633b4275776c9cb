"""The result cache: keys from everything that can change a run, and pruning.

A snippet's key hashes the snippet, the project modules it imports (transitively),
the data files of its package (programs it compiles), the lock files, the Python
build and the kernel release. Entries live under one folder per environment
(`.cache/snippets/<environment>/<key>.json`), so the builds of two Pythons that
share a clone never prune each other's results. After a build, the entries of its
own environment that no current snippet can reach are removed (`prune`); another
environment's folder goes once it has not been used for `STALE_DAYS`
(`prune_environments`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CACHE_VERSION = "2"
LOCK_FILES = ("requirements.lock", "requirements-runtimes.lock")
STALE_DAYS = 30

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


def environment_id() -> str:
    """The folder name of this Python and kernel's entries."""
    return hashlib.sha256(environment_key().encode()).hexdigest()[:12]


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


def entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / environment_id() / f"{key}.json"


def load(cache_dir: Path, key: str) -> dict | None:
    path = entry(cache_dir, key)
    if not path.is_file():
        return None
    os.utime(path)  # used now: the stale-environment rule looks at the folder's
    return json.loads(path.read_text(encoding="utf-8"))


def store(cache_dir: Path, key: str, data: dict) -> None:
    path = entry(cache_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


@dataclass
class Pruned:
    removed: int = 0
    kept: int = 0
    bytes_kept: int = 0


def prune(folder: Path, keep: set[str], now: float | None = None) -> Pruned:
    """Remove every entry of `folder` (files or folders named by their key) whose
    key is not in `keep`."""
    now = time.time() if now is None else now
    out = Pruned()
    if not folder.is_dir():
        return out
    for path in folder.iterdir():
        key = path.name.split(".", 1)[0]
        if key in keep:
            out.kept += 1
            out.bytes_kept += _size(path)
        elif path.suffix == ".tmp" and now - path.stat().st_mtime < 3600:
            continue  # another build is writing it
        else:
            _remove(path)
            out.removed += 1
    return out


def prune_environments(base: Path, now: float | None = None) -> None:
    """Remove the folders under `base` of environments unused for STALE_DAYS (this
    one's folder was used by the build that calls this)."""
    now = time.time() if now is None else now
    if base.is_dir():
        for other in base.iterdir():
            if other.is_dir() and other.name != environment_id() and \
                    now - _last_use(other) > STALE_DAYS * 86400:
                _remove(other)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _last_use(folder: Path) -> float:
    return max([folder.stat().st_mtime] + [p.stat().st_mtime
                                           for p in folder.rglob("*")])


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def usage(folder: Path) -> tuple[int, int]:
    """(entries, bytes) under a cache folder, all environments."""
    if not folder.is_dir():
        return 0, 0
    entries = [p for env in folder.iterdir() if env.is_dir() for p in env.iterdir()]
    return len(entries), sum(_size(p) for p in entries)
