"""Run one snippet in its own process group, bounded by a timeout, with a result cache.

A run is cached under `cache.cache_key`: everything that can change its output.
Only runs that succeeded and whose claims all held are cached: a run with a claim
*not checked here* (a busy machine, a missing tool) is tried again next build.

A failure names where it happened: the innermost frame of the project's own code
in the traceback of a snippet that raised, or, for one that hangs, in the stack
dump `faulthandler` writes when the runner sends SIGABRT at the deadline (then the
process group is killed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from snippet_runner import cache, where, zygote
from snippets.report import OUTPUT_DIR_ENV, Claim, read_claims

STDERR_TAIL = 15
DUMP_GRACE = 2.0  # seconds a hung snippet gets to write its stacks after SIGABRT


class SnippetFailure(Exception):
    """A snippet raised, exited non-zero, timed out, or broke one of its claims."""


@dataclass
class SnippetRun:
    path: str  # relative to the project root, e.g. snippets/threads/io_bound.py
    command: str  # what a reader types to run it
    stdout: str
    stderr: str
    seconds: float
    claims: list[Claim] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    cached: bool = False
    measured_at: float = 0.0  # Unix time the run finished (cached runs keep theirs)

    @property
    def unchecked(self) -> list[Claim]:
        return [c for c in self.claims if c.held is None]

    def to_json(self) -> dict:
        return {"path": self.path, "command": self.command, "stdout": self.stdout,
                "stderr": self.stderr, "seconds": self.seconds,
                "claims": [c.to_json() for c in self.claims],
                "figures": self.figures, "measured_at": self.measured_at}

    @classmethod
    def from_json(cls, data: dict, cached: bool = True) -> SnippetRun:
        claims = [Claim.from_json(c) for c in data.pop("claims")]
        return cls(**data, claims=claims, cached=cached)


def module_name(rel_path: str) -> str:
    return rel_path.removesuffix(".py").replace("/", ".")


def _kill_group(pgid: int) -> bool:
    """SIGKILL the process group; True if anything in it was still alive."""
    try:
        os.killpg(pgid, 0)
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _abort(pid: int) -> None:
    """Ask a hung snippet for its stacks: faulthandler dumps them on SIGABRT."""
    try:
        os.kill(pid, signal.SIGABRT)
    except ProcessLookupError:
        pass


def _tail(text: str, lines: int = STDERR_TAIL) -> str:
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in kept) or "    | (stderr was empty)"


def _spawn(root: Path, module: str, env: dict[str, str], stdout: Path, stderr: Path,
           timeout: float) -> tuple[int, bool, int]:
    """`python -m module` as a new process: (returncode, timed out, its pid)."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", "-m", module], cwd=root, env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _abort(proc.pid)
        try:
            proc.wait(timeout=DUMP_GRACE)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc.pid)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, timed_out, proc.pid


def execute(root: Path, rel_path: str, timeout: float,
            judge: bool = True) -> SnippetRun:
    """Run `python -m <module>` from the project root; SnippetFailure on any fault
    (with `judge=False`, a claim that did not hold, and the exit status 1 that goes
    with it, are returned in the run rather than raised: `make compare` shows them).

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
                    module, *streams, {OUTPUT_DIR_ENV: out}, timeout, _kill_group,
                    _abort, DUMP_GRACE)
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
        claims = read_claims(Path(out))
        figures = {p.stem: p.read_text(encoding="utf-8")
                   for p in sorted(Path(out).glob("*.svg"))}

    def fail(what: str) -> SnippetFailure:
        return SnippetFailure(
            f"{rel_path}: {what}\n  last lines of its stderr:\n{_tail(stderr)}"
            f"\n  run it by hand: {command}")

    if timed_out:
        stuck = where.stuck_at(stderr, root)
        at = f", stuck at {stuck}" if stuck else ""
        raise fail(f"timed out after {timeout:g} s{at}; its process group was killed")
    broke = claims is not None and any(c.held is False for c in claims)
    if broke and not judge and returncode == 1 and not timed_out:
        return SnippetRun(rel_path, command, stdout, stderr, seconds, claims, figures,
                          measured_at=time.time())
    if broke:
        broken = "; ".join(f"{c.statement}: measured {c.evidence}"
                           for c in claims if c.held is False)
        raise fail(f"a claim did not hold: {broken}")
    if returncode != 0:
        at = where.raised_at(stderr, root)
        last = (stderr.rstrip().splitlines() or ["(stderr was empty)"])[-1]
        raise fail(f"exited with status {returncode}"
                   + (f", raised at {at}: {last}" if at else ""))
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
    data = cache.load(cache_dir, cache.cache_key(root, rel_path))
    return SnippetRun.from_json(data) if data else None


def run_snippet(root: Path, rel_path: str, timeout: float, cache_dir: Path | None,
                fresh: bool = False) -> SnippetRun:
    """Return the cached run of an unchanged snippet, else execute and cache it."""
    hit = None if fresh else cached_run(root, rel_path, cache_dir)
    if hit:
        return hit
    key = cache.cache_key(root, rel_path) if cache_dir else None  # before it runs
    run = execute(root, rel_path, timeout)
    if cache_dir and key and not run.unchecked:
        cache.store(cache_dir, key, run.to_json())
    return run
