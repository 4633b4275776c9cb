"""The MySQL-journey episode: the gate's table, a real MariaDB driven by sysbench, the
many-tables restart, callgrind's counts and the per-statement model."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import claimcheck
import pytest

from snippets.mysql_journey import (
    _mariadb,
    instructions,
    many_tables,
    per_statement,
    qps_ratio,
    sysbench_runs,
    version_gate,
)

PROJECT = Path(__file__).resolve().parents[1]


unavailable = claimcheck.unavailable


def server_dirs() -> set[Path]:
    return set(Path(_mariadb.MEMORY or tempfile.gettempdir()).glob("mariadb-*"))


def our_servers() -> list[str]:
    """Command lines of mariadbd processes started from this project's binaries."""
    found = []
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmd.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(_mariadb.ROOT) in text and "mariadbd" in text:
            found.append(text)
    return found


@pytest.fixture
def mariadb():
    if reason := _mariadb.missing():
        unavailable(reason)
    before = server_dirs()
    yield
    assert server_dirs() == before, "a data dir was left behind"
    assert not our_servers(), "a mariadbd was left running"


@pytest.mark.parametrize(("text", "ok", "says"), [
    ("8.0.37", True, "upgrade straight to 8.0.39 or later, skipping 8.0.38"),
    ("8.0.38", False, "upgrade to 8.0.39 or later"),
    ("8.0.38-log", False, "upgrade to 8.0.39 or later"),
    ("mysqld  Ver 8.0.38 for Linux on x86_64 (MySQL Community Server - GPL)", False,
     "upgrade to 8.0.39 or later"),
    ("8.0.39", True, "not one of the affected releases"),
    ("8.4.0", True, "skipping 8.4.1"),
    ("8.4.1", False, "upgrade to 8.4.2 or later"),
    ("8.4.2", True, "not one of the affected releases"),
    ("9.0.0", False, "upgrade to 9.0.1 or later"),
    ("9.0.1-commercial", True, "not one of the affected releases"),
    ("5.7.44", True, "not one of the affected releases"),
    ("10.11.18-MariaDB-0+deb12u1", True, "MariaDB"),
    ("", False, "no MySQL version found"),
])
def test_the_version_gate(text, ok, says):
    verdict = version_gate.gate(text)
    assert verdict.ok is ok
    assert says in verdict.advice


def test_the_gate_demo_flags_exactly_the_affected_releases():
    claimcheck.check(version_gate.claims(version_gate.measure()))
    assert sorted(version_gate.AFFECTED) == [(8, 0, 38), (8, 4, 1), (9, 0, 0)]


def test_sysbench_runs_medians_and_the_cold_first_run(mariadb):
    runs = claimcheck.check_timed(sysbench_runs)
    for name, events in sysbench_runs.EVENTS.items():
        assert len(runs[name]) == sysbench_runs.ROUNDS
        assert {(r.queries, r.events, r.errors) for r in runs[name]} == {
            (events, events, 0)}
    assert runs["point"][0].pages_read > 0  # the first run started cold


def test_a_restart_with_many_tables_reads_every_table(mariadb):
    result = many_tables.measure(tables=120)
    claimcheck.check(many_tables.claims(result))
    assert (result.files_before, result.listed_after, result.rows_after) == (
        120, 120, 120)
    assert result.checksum_after == 120 * 121 // 2


def test_a_killed_demo_leaves_no_server_behind(mariadb):
    """SIGKILL the demo's process group mid-run, as the site build does on timeout:
    the reaper still removes the data dir and no mariadbd survives."""
    before = server_dirs()
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "snippets.mysql_journey.many_tables"], cwd=PROJECT,
        env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any((d / "mariadb.sock").exists() for d in server_dirs() - before):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while (server_dirs() - before or our_servers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server_dirs() - before, "the data dir outlived the killed demo"
    assert not our_servers(), "mariadbd outlived the killed demo"


def test_callgrind_counts_are_exact_and_the_newer_sqlite_runs_less_code():
    missing = [t for t in ("valgrind", "callgrind_annotate") if not shutil.which(t)]
    if missing:
        unavailable(f"{' and '.join(missing)} not installed")
    counts = instructions.measure()
    claimcheck.check(instructions.claims(counts))
    for count in counts.values():
        assert len(count.step) == instructions.PHASES - 1
        assert len(set(count.step)) == 1


def test_the_qps_ratio_is_timed_in_interleaved_rounds():
    ratios = claimcheck.check_timed(qps_ratio)
    assert len(ratios) == qps_ratio.ROUNDS and all(r > 0 for r in ratios)


def test_reparsing_hurts_point_selects_more_than_long_scans():
    relative = claimcheck.check_timed(per_statement)
    assert set(relative.ratios) == set(per_statement.WORKLOADS)
    assert all(len(v) == 7 for v in relative.ratios.values())
