"""Throw-away database servers for the demos: private, bounded, gone at the end.

What PostgreSQL (`snippets/pg_server.py`) and MariaDB
(`snippets/mysql_journey/_mariadb.py`) share, done one way:

* **Private by construction.** Every server lives in a fresh folder under this user's
  base, `<tmp>/backend-executed-<uid>`, which only this user can enter (and, when
  root runs the server as `nobody`, nobody's group may pass through it: mode 0710).
  The base is never trusted because of its name: before each use its owner, type and
  mode are checked, and a base another user made first is refused. A server's socket
  lives inside its folder, and its logins accept only this user (and the server's).
* **Run as the right user**: `nobody` where a server refuses root (PostgreSQL), the
  caller otherwise.
* **Bounded**: the server stays in the caller's process group, so a runner that
  kills the snippet's group on a timeout kills it too; `stop()` (also on error,
  through the context manager) stops it and removes its folder.
* **Leftovers after a SIGKILL**: each folder names its owner (pid and start time);
  the next server started by this user removes the folders whose owner is gone,
  with whatever still runs in them.
* **Each server reports its own version**, read from the running server.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from snippets.report import HostForbids

SERVER_USER = "nobody"  # who runs a server that refuses root, when root builds


MEMORY = Path("/dev/shm")  # where a server whose disk writes must be free can live


def base(memory: bool = False) -> Path:
    """This user's folder for servers, checked (owner, type, mode) before use; in
    memory (/dev/shm, where there is one) if asked."""
    uid = os.geteuid()
    under = MEMORY if memory and os.access(MEMORY, os.W_OK | os.X_OK) else Path(
        tempfile.gettempdir())
    path = under / f"backend-executed-{uid}"
    mode = 0o710 if uid == 0 else 0o700
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        pass
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
        raise HostForbids(f"{path} exists but is not a folder of this user: "
                          "refusing to put servers there (remove it)")
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)
    if uid == 0:  # the servers' user passes through, no one else
        os.chown(path, 0, grp.getgrgid(pwd.getpwnam(SERVER_USER).pw_gid).gr_gid)
    return path


def server_user() -> str:
    """The user a server that refuses root runs as: `nobody` for root, else us."""
    return SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def processes_in(root: Path) -> list[int]:
    """Processes whose working dir is under root (servers chdir to their data)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = os.readlink(entry / "cwd")
            except OSError:
                continue
            if cwd == str(root) or cwd.startswith(f"{root}/"):
                pids.append(int(entry.name))
    return pids


def kill_all(root: Path) -> None:
    for _ in range(50):
        pids = processes_in(root)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def new_folder(prefix: str, memory: bool = False) -> Path:
    """A fresh folder for one server under this user's base, naming its owner."""
    clean_leftovers()
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base(memory)))
    pid = os.getpid()
    (folder / "owner").write_text(f"{pid} {_start_time(pid)}\n")
    return folder


def give_to_server_user(*paths: Path) -> None:
    """As root: hand folders to the server's user (0700: no one else enters)."""
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(SERVER_USER)
    for path in paths:
        os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(path, 0o700)


def remove(folder: Path, before: Callable[[Path], None] | None = None) -> None:
    """Kill what runs in the folder, let `before` tidy up, remove it."""
    kill_all(folder)
    if before:
        before(folder)
    shutil.rmtree(folder, ignore_errors=True)


CLEANUPS: list[Callable[[Path], None]] = []  # per kind: what a dead server leaves


def clean_leftovers() -> list[str]:
    """Remove this user's server folders whose owning process is gone."""
    removed = []
    folders = {p for root in {base(), base(memory=True)} for p in root.iterdir()
               if (p / "owner").exists() or p.name.startswith(("pg", "mariadb"))}
    for folder in sorted(folders):
        try:
            pid, started = (folder / "owner").read_text().split()
        except (OSError, ValueError):
            try:  # no owner yet: made a moment ago by a server starting beside us?
                if time.time() - folder.stat().st_mtime < 60:
                    continue
            except OSError:
                continue
            pid, started = "0", ""
        if _start_time(int(pid)) != started:
            kill_all(folder)
            for cleanup in CLEANUPS:
                cleanup(folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def server_processes() -> list[int]:
    """Every process running in one of this user's server folders."""
    return sorted({p for root in {base(), base(memory=True)} for p in
                   processes_in(root)})


def wait_ready(probe: Callable[[], bool], alive: Callable[[], bool], what: str,
               why: Callable[[], str], timeout: float = 30) -> None:
    """Poll `probe` until it answers; fail as soon as the server died."""
    deadline = time.monotonic() + timeout
    while True:
        if not alive():
            raise RuntimeError(f"{what} did not start: {why()[-800:]}")
        if probe():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready in {timeout:g} s: {why()[-800:]}")
        time.sleep(0.05)


def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM,
                 timeout: float = 30) -> int | None:
    """Signal a server to stop and wait for it (killed if it takes too long)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode
