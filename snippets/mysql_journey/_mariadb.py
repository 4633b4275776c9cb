"""A throw-away MariaDB server for the MySQL-journey demos (a fork of MySQL, not MySQL).

Debian's MariaDB and sysbench, unpacked by `make servers` into .cache/debs/ (no system
service, nothing installed system-wide; demos print the version the server reports).
Each `Server` copies the system tables `make servers` made with mariadb-install-db into
a private folder (`snippets/servers.py`: this user's, in memory where there is some),
listens on a Unix socket only (--skip-networking), lets in only the user who runs the
demo (unix_socket authentication: no password, no other user), runs as that user (as
root it says so with --user=root: the unpacked tree may sit under a folder no other
user can enter, e.g. a clone in a private temp dir), and is removed at the end, also
on error; after a kill, the next server started removes what it left.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from snippets import servers
from snippets.report import MissingTool

PROJECT = Path(__file__).resolve().parents[2]
ROOT = PROJECT / ".cache" / "debs" / "root"
USER = pwd.getpwuid(os.geteuid()).pw_name  # the only login: this user, by socket
TEMPLATE = PROJECT / ".cache" / "debs" / f"datadir-{USER}"
LIB = ROOT / "usr" / "lib" / "x86_64-linux-gnu"
SYSBENCH_DIR = ROOT / "usr" / "share" / "sysbench"
# The data dir in memory where there is some: fsync is free, so a demo measures CPU
# work (and creating hundreds of tables takes seconds, not half a minute).
LOG_SIZE = "--innodb-log-file-size=16M"  # not 96 MB: each demo copies the data dir
HOW = "run `make servers` (Debian/Ubuntu: apt-get download + dpkg -x, no root needed)"
def env() -> dict[str, str]:
    return dict(os.environ, LD_LIBRARY_PATH=str(LIB), LC_ALL="C")


def require() -> None:
    """Raise MissingTool unless the server, its client and sysbench are unpacked."""
    needed = [ROOT / "usr/sbin/mariadbd", ROOT / "usr/bin/mariadb",
              ROOT / "usr/bin/sysbench", TEMPLATE / "mysql"]
    absent = [p.name for p in needed if not p.exists()]
    if absent:
        raise MissingTool(f"MariaDB/sysbench not unpacked ({', '.join(absent)} "
                          f"missing): {HOW}")


def install_template() -> None:
    """mariadb-install-db once, into TEMPLATE (what `make servers` calls)."""
    if (TEMPLATE / "mysql").is_dir():
        return
    work = Path(tempfile.mkdtemp(prefix="datadir-", dir=TEMPLATE.parent))
    subprocess.run([ROOT / "usr/bin/mariadb-install-db", "--no-defaults",
                    f"--basedir={ROOT / 'usr'}", f"--datadir={work / 'data'}",
                    f"--user={USER}", "--skip-test-db",
                    "--auth-root-authentication-method=socket",
                    f"--auth-root-socket-user={USER}", LOG_SIZE],
                   env=env(), check=True, stdout=subprocess.DEVNULL, timeout=300)
    (work / "data").rename(TEMPLATE)
    work.rmdir()


class Server:
    """`with Server() as db:` a running server; `db.sql(text)`; `db.restart()`."""

    def __init__(self, *options: str) -> None:
        self.options = list(options)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        require()
        self.dir = servers.new_folder("mariadb", memory=True)
        self.socket = self.dir / "mariadb.sock"
        shutil.copytree(TEMPLATE, self.dir / "data")
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def start(self, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [ROOT / "usr/sbin/mariadbd", "--no-defaults", f"--basedir={ROOT / 'usr'}",
             f"--datadir={self.dir / 'data'}", f"--socket={self.socket}",
             "--skip-networking", f"--pid-file={self.dir / 'mariadbd.pid'}",
             f"--log-error={self.dir / 'error.log'}",
             f"--lc-messages-dir={ROOT / 'usr/share/mysql'}",
             LOG_SIZE, "--innodb-buffer-pool-load-at-startup=OFF",
             "--innodb-buffer-pool-dump-at-shutdown=OFF", *self.as_root(),
             *self.options],
            env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd=self.dir)
        servers.wait_ready(lambda: self.sql("SELECT 1", check=False) == "1",
                           lambda: self.proc.poll() is None, "mariadbd", self.log,
                           timeout)

    @staticmethod
    def as_root() -> list[str]:
        """mariadbd refuses to run as root unless told so explicitly."""
        return ["--user=root"] if os.geteuid() == 0 else []

    def sql(self, text: str, check: bool = True) -> str:
        """Run SQL through the mariadb client; return its tab-separated output."""
        run = subprocess.run(
            [ROOT / "usr/bin/mariadb", "--no-defaults", f"--socket={self.socket}",
             f"--user={USER}", "--batch", "--skip-column-names"],
            input=text, env=env(), capture_output=True, text=True, timeout=120)
        if check and run.returncode:
            raise RuntimeError(f"mariadb client failed: {run.stderr.strip()}")
        return run.stdout.strip()

    def stop(self, timeout: float = 60) -> int | None:
        """Shut down cleanly (SIGTERM); return the exit status."""
        return servers.stop_process(self.proc, timeout=timeout)

    def version(self) -> str:
        """What the server says it is: `SELECT VERSION()`, '10.11.19-MariaDB-0+deb12u1'
        read as 'MariaDB 10.11.19' (any other answer is returned as it came)."""
        text = self.sql("SELECT VERSION()")
        number, _, suffix = text.partition("-")
        return f"MariaDB {number}" if "MariaDB" in suffix else text

    def restart(self) -> int | None:
        status = self.stop()
        self.start()
        return status

    def log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __exit__(self, *exc: object) -> None:
        self.stop()
        servers.remove(self.dir)


def sysbench(test: str, db: Server, *args: str, timeout: float = 120) -> str:
    """Run sysbench from its own folder (so `oltp_common` resolves); its stdout."""
    run = subprocess.run(
        [ROOT / "usr/bin/sysbench", test, "--db-driver=mysql", f"--mysql-user={USER}",
         f"--mysql-socket={db.socket}", "--mysql-db=mysql", *args],
        cwd=SYSBENCH_DIR, env=env(), capture_output=True, text=True, timeout=timeout)
    if run.returncode:
        raise RuntimeError(f"sysbench {test} failed: {run.stderr.strip()[-500:]}")
    return run.stdout


if __name__ == "__main__" and sys.argv[1:] == ["template"]:
    install_template()
