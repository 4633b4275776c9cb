"""Start snippets without paying for Python's start-up each time.

A build runs some sixty snippets, each `python -m <module>` in its own process; about
0.1 s of each is the interpreter starting and importing the same standard modules
(asyncio alone costs 60 ms). A zygote is one Python that has imported those modules
once and then, per request, forks a child. The child becomes exactly what
`python -m <module>` from the project root would be: its own session (so a timeout
kills its whole group), stdin from /dev/null, stdout and stderr to files, the
request's environment, the module run as `__main__` by the same function `-m` uses,
and the interpreter's normal exit (atexit handlers, non-daemon threads joined).

Protocol on the zygote's stdin/stdout, one JSON object per line:
  request  {"module": ..., "stdout": path, "stderr": path, "env": {...}}
  replies  {"started": pid}   then   {"exited": returncode}  (negative: a signal)
Only the standard library is preloaded, never the project's own modules, so an
edited helper is always imported fresh.
"""

from __future__ import annotations

import atexit
import faulthandler
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

PRELOAD = ("asyncio", "concurrent.futures", "ctypes", "dataclasses", "datetime",
           "functools", "json", "pathlib", "pickle", "platform", "queue", "re",
           "selectors", "shutil", "signal", "socket", "statistics", "struct",
           "subprocess", "tempfile", "threading", "typing")


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _become(request: dict) -> None:
    """In the forked child: take on the snippet's session, files and environment."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = sys.__stdin__ = open(0, closefd=False)  # noqa: SIM115 (fd 0 is ours)
    os.environ.update(request["env"])
    faulthandler.enable()  # a SIGABRT at the deadline dumps the stacks to stderr


def serve() -> str | None:
    """Answer requests until stdin closes. In a forked child, return its module."""
    for name in PRELOAD:
        __import__(name)
    while line := sys.stdin.readline():
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _become(request)
            return request["module"]
        _reply({"started": pid})
        _, status = os.waitpid(pid, 0)
        _reply({"exited": os.waitstatus_to_exitcode(status)})
    return None


# -- the build's side ---------------------------------------------------------------


class Unavailable(Exception):
    """The zygote could not start the snippet (the caller starts it the slow way)."""


class Lost(Exception):
    """The zygote died after it had started the snippet: that run is a failure (the
    snippet may have done part of its work, so it is not started a second time)."""


class Zygote:
    """One zygote process, serving one request at a time."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "snippet_runner.zygote"], cwd=root, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            bufsize=0)
        self.pending = b""

    def _read(self, timeout: float) -> dict:
        """The next reply line, or TimeoutError; Unavailable if the zygote died."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                if sel.select(left):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        raise Unavailable("the zygote exited")
                    self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def run(self, module: str, stdout: Path, stderr: Path, env: dict[str, str],
            timeout: float, kill_group, abort, grace: float) -> tuple[int, bool, int]:
        """Run the module in a forked child: (returncode, timed out, its pid).
        On a timeout `abort(pid)` is called (the child dumps its stacks), then after
        `grace` seconds `kill_group(pid)`, and the child's exit awaited."""
        request = {"module": module, "stdout": str(stdout), "stderr": str(stderr),
                   "env": env}
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            pid = self._read(30)["started"]
        except (OSError, TimeoutError) as error:
            raise Unavailable(str(error)) from None
        exited, timed_out = None, False
        try:
            try:
                exited = self._read(timeout)["exited"]
            except TimeoutError:
                timed_out = True
                abort(pid)
                try:
                    exited = self._read(grace)["exited"]
                except TimeoutError:
                    kill_group(pid)
                    exited = self._read(30)["exited"]
        except Unavailable as error:
            raise Lost(f"{error} while the snippet ran") from None
        finally:
            if exited is None:  # interrupted, or the zygote died: nothing may linger
                kill_group(pid)
        return exited, timed_out, pid

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            self.proc.stdout.close()


_IDLE: dict[tuple, list[Zygote]] = {}
_LOCK = threading.Lock()


def _key(root: Path, env: dict[str, str]) -> tuple:
    return str(root), tuple(sorted(env.items()))


def borrow(root: Path, env: dict[str, str]) -> Zygote:
    """An idle zygote for this project and environment, started if none is idle."""
    key = _key(root, env)
    with _LOCK:
        if not _IDLE:
            atexit.register(_close_all)
        idle = _IDLE.setdefault(key, [])
        while idle:
            zygote = idle.pop()
            if zygote.proc.poll() is None:
                return zygote
            zygote.close()  # died while idle: release its pipes
    return Zygote(root, env)


def give_back(zygote: Zygote, root: Path, env: dict[str, str]) -> None:
    if zygote.proc.poll() is not None:  # it died: release its pipes
        zygote.close()
        return
    with _LOCK:
        _IDLE.setdefault(_key(root, env), []).append(zygote)


def _close_all() -> None:
    with _LOCK:
        for idle in _IDLE.values():
            while idle:
                idle.pop().close()


if __name__ == "__main__":
    module = serve()
    if module is not None:  # a child: run it in a fresh __main__, as `-m` does
        import runpy
        import types

        sys.modules["__main__"] = types.ModuleType("__main__")
        runpy._run_module_as_main(module)  # what `python -m module` itself calls
