"""Throw-away servers: each reports its own version, no other user can reach or log
in to one, a base folder someone else made is refused, and nothing outlives a
killed demo."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from claimcheck import unavailable

from snippets import pg_server, servers
from snippets.report import HostForbids, NotMeasurable

ROOT = Path(__file__).resolve().parents[1]
STRANGER = 54321  # a uid no one uses: another local user
# Runs as the stranger: connect to a PostgreSQL socket and ask to log in as the
# superuser (a protocol 3.0 StartupMessage); print what happened.
PROBE = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:", e.strerror); sys.exit()
body = struct.pack("!i", 196608) + b"user\0postgres\0database\0postgres\0\0"
s.sendall(struct.pack("!i", len(body) + 4) + body)
reply = s.recv(1000)
print("answer:", reply[:1].decode(), reply[5:].decode(errors="replace"))
"""


def need_pg(major: int = 17) -> None:
    try:
        pg_server.bin_dir(major)
        pg_server.client_dir()
    except NotMeasurable as why:
        unavailable(why.reason)


def as_stranger(*argv: str) -> str:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("only root can run a probe as another user (setpriv)")
    done = subprocess.run(["setpriv", f"--reuid={STRANGER}", f"--regid={STRANGER}",
                           "--clear-groups", "/usr/bin/python3", "-c", *argv],
                          capture_output=True, text=True, timeout=30, check=False)
    return done.stdout + done.stderr


@pytest.fixture(autouse=True)
def nothing_left():
    """After every test: no server process, no folder of a dead owner."""
    yield
    assert pg_server.wait_gone() == []
    assert servers.clean_leftovers() == []


@pytest.mark.parametrize("major", pg_server.VERSIONS)
def test_each_postgres_reports_its_own_version(major):
    need_pg(major)
    with pg_server.Server(major) as pg:
        found = pg.server_version()
    assert found == pg_server.version(major) and found.split()[1].startswith(
        f"{major}.")


def test_another_user_can_neither_reach_nor_log_in_to_a_postgres():
    need_pg()
    with pg_server.Server(17) as pg:
        socket_path = str(pg.sock / ".s.PGSQL.5432")
        assert "refused: Permission denied" in as_stranger(PROBE, socket_path)
        # even through folders opened to everyone, the login itself is refused:
        # peer authentication maps only this user and the server's to `postgres`
        for folder in (servers.base(), pg.root, pg.sock):
            os.chmod(folder, 0o711)
        try:
            said = as_stranger(PROBE, socket_path)
        finally:
            for folder in (pg.root, pg.sock):
                os.chmod(folder, 0o700)
            servers.base()  # puts its mode back
    assert said.startswith("answer: E"), said  # an ErrorResponse, not an auth request


def test_a_base_folder_another_user_made_is_refused(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root can make a folder that belongs to another user")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    planted = tmp_path / f"backend-executed-{os.geteuid()}"
    planted.mkdir()
    os.chown(planted, STRANGER, STRANGER)
    with pytest.raises(HostForbids, match="not a folder of this user"):
        servers.base()
    planted.rmdir()
    planted.symlink_to(tmp_path)
    with pytest.raises(HostForbids, match="not a folder of this user"):
        servers.base()


def test_a_demo_killed_like_a_timeout_leaves_nothing():
    """SIGKILL the demo's process group, as the runner does on a timeout."""
    need_pg(18)
    base = servers.base()
    before = set(base.glob("pg*"))
    demo = subprocess.Popen([sys.executable, "-m",
                             "snippets.postgres_io_combining.io_workers"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)

    def running() -> bool:  # a postmaster of the demo's own is up
        return any((d / "sock" / ".s.PGSQL.5432").exists()
                   for d in set(base.glob("pg*")) - before)

    try:
        deadline = time.monotonic() + 60
        while not running() and time.monotonic() < deadline:
            assert demo.poll() is None, f"the demo ended ({demo.returncode}) early"
            time.sleep(0.05)
        assert running(), "no server started in 60 s"
        time.sleep(0.5)  # let it start its io workers and a backend
    finally:
        os.killpg(demo.pid, signal.SIGKILL)
        demo.wait(10)
    survivors = [Path(f"/proc/{pid}/cmdline").read_bytes()[:80]
                 for pid in pg_server.wait_gone(30)]
    assert survivors == [], "postgres outlived its killed demo"
    left = set(base.glob("pg*")) - before
    assert left, "the killed demo's folder should still be there to clean"
    assert sorted(servers.clean_leftovers()) == sorted(p.name for p in left)
    assert not any(p.exists() for p in left)


def test_a_copied_install_runs_where_the_clone_is_out_of_reach(monkeypatch, tmp_path):
    """As root, an install under a folder `nobody` cannot enter is copied, once for
    every clone that has the same binaries (not once per clone: 60 MB each)."""
    need_pg(18)
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    monkeypatch.setattr(pg_server.Server, "_server_can_run", lambda self: False)
    with pg_server.Server(18) as pg:
        assert pg.bin.is_relative_to(servers.base())
        assert pg.sql("SELECT 6 * 7") == ["42"]
    with pg_server.Server(18) as again:  # the copy is made once, not per server
        assert again.bin == pg.bin and again.sql("SELECT 1") == ["1"]
    shutil.copytree(pg_server.INSTALLS / "pg18", tmp_path / "pg18", symlinks=True)
    monkeypatch.setattr(pg_server, "INSTALLS", tmp_path)  # another clone's install
    with pg_server.Server(18) as clone:
        assert clone.bin == pg.bin and clone.sql("SELECT 2") == ["2"]


def test_servers_run_as_nobody_for_root_and_as_the_caller_otherwise():
    need_pg()
    expected = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    with pg_server.Server(17) as pg:
        pid = int((pg.data / "postmaster.pid").read_text().split()[0])
        owner = pwd.getpwuid(Path(f"/proc/{pid}").stat().st_uid).pw_name
    assert owner == expected


def test_another_user_can_neither_reach_nor_log_in_to_a_mariadb():
    from snippets.mysql_journey import _mariadb

    try:
        _mariadb.require()
    except NotMeasurable as why:
        unavailable(why.reason)
    with _mariadb.Server() as db:
        assert "refused: Permission denied" in as_stranger(PROBE, str(db.socket))
        assert db.version().startswith("MariaDB ")
        for folder in (servers.base(memory=True), db.dir):
            os.chmod(folder, 0o711)
        try:  # through open folders: unix_socket lets in this user only
            said = subprocess.run(
                ["setpriv", f"--reuid={STRANGER}", f"--regid={STRANGER}",
                 "--clear-groups", str(_mariadb.ROOT / "usr/bin/mariadb"),
                 "--no-defaults", f"--socket={db.socket}", f"--user={_mariadb.USER}",
                 "-e", "SELECT 1"], env=_mariadb.env(), capture_output=True,
                text=True, timeout=30, check=False)
        finally:
            os.chmod(db.dir, 0o700)
            servers.base(memory=True)
    assert said.returncode != 0 and "Access denied" in said.stderr, said.stderr
