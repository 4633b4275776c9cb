"""The MySQL-journey episode: the gate's table, a real MariaDB driven by sysbench, the
many-tables restart, callgrind's counts and the per-statement model."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import claimcheck
import pytest
from claimcheck import counter_case, refute

from snippets import servers
from snippets.mysql_journey import (
    _mariadb,
    instructions,
    many_tables,
    per_statement,
    qps_ratio,
    sysbench_runs,
    version_gate,
)
from snippets.report import NotMeasurable

PROJECT = Path(__file__).resolve().parents[1]


unavailable = claimcheck.unavailable


def server_dirs() -> set[Path]:
    return set(servers.base(memory=True).glob("mariadb*"))


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
    try:
        _mariadb.require()
    except NotMeasurable as why:
        unavailable(why.reason)
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


def test_the_gate_demo_judges_its_examples_as_expected():
    claimcheck.check(version_gate.claims(version_gate.measure()))


@pytest.mark.parametrize(("answer", "reads"), [
    ("10.11.19-MariaDB-0+deb12u1", "MariaDB 10.11.19"),
    ("11.8.3-MariaDB", "MariaDB 11.8.3"),
    ("8.0.39", "8.0.39"),
])
def test_the_server_name_comes_from_select_version(answer, reads):
    db = _mariadb.Server()
    db.sql = lambda text, check=True: answer if text == "SELECT VERSION()" else ""
    assert db.version() == reads


def test_sysbench_runs_medians_and_the_cold_first_run(mariadb):
    bench = claimcheck.check_timed(sysbench_runs)
    # the name and version printed are what SELECT VERSION() said, not a constant
    assert re.fullmatch(r"MariaDB \d+\.\d+\.\d+", bench.server), bench.server


def sysbench_run(qps, pages=0):
    return sysbench_runs.Run(qps, queries=2000, events=2000, errors=0,
                             pages_read=pages)


@counter_case("cold-first-run", "point-vs-range")
def test_a_warm_start_and_a_slow_point_select_break_the_sysbench_findings():
    # MySQL's default innodb_buffer_pool_load_at_startup=ON: the first run finds its
    # pages already loaded, and every run reads a few more; a build whose point
    # select costs as much as a 100-row range scan
    runs = {"point": [sysbench_run(15_000, pages=3) for _ in range(5)],
            "range": [sysbench_run(16_000, pages=3) for _ in range(5)]}
    bench = sysbench_runs.Bench("MySQL 8.0.39", runs)
    refute(sysbench_runs.claims(bench), "cold-first-run", "point-vs-range")


def test_a_restart_with_many_tables_reads_every_table(mariadb):
    claimcheck.check(many_tables.claims(many_tables.measure(tables=120)))


@counter_case("restart-lists-tables", "restart-reads-tables")
def test_a_server_that_loses_tables_at_restart_breaks_the_restart_findings():
    # a server that comes back with part of its data dictionary, and a table whose
    # row no longer holds what was written
    lost = many_tables.Restart("MySQL 8.0.38", 400, files_before=400,
                               shutdown_status=0, listed_after=357, right_after=399)
    refute(many_tables.claims(lost), "restart-lists-tables", "restart-reads-tables")


def test_a_killed_demo_leaves_no_server_behind(mariadb):
    """SIGKILL the demo's process group mid-run, as the site build does on timeout:
    no mariadbd survives, and the next server started removes the folder left."""
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
    while our_servers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not our_servers(), "mariadbd outlived the killed demo"
    left = server_dirs() - before
    assert left, "the killed demo's folder should still be there to clean"
    assert sorted(servers.clean_leftovers()) == sorted(p.name for p in left)


def test_callgrind_counts_are_exact_and_the_newer_sqlite_runs_less_code():
    try:
        counts = instructions.measure()
    except NotMeasurable as why:
        unavailable(why.reason)
    claimcheck.check(instructions.claims(counts))


@counter_case("callgrind-exact", "newer-sqlite-fewer", "sqlite-share")
def test_counts_that_drift_and_a_heavier_sqlite_break_the_callgrind_findings():
    # a build whose warm phases differ (a cache that still fills), whose newer SQLite
    # runs more code per query, and which spends most of a query inside SQLite
    N = instructions.N
    counts = {"sqlite3": instructions.Count("3.40.1", [5_000 * N, 5_040 * N],
                                            [8_000 * N, 8_040 * N]),
              "apsw": instructions.Count("3.54.1", [5_500 * N] * 2, [8_500 * N] * 2)}
    refute(instructions.claims(counts), "callgrind-exact", "newer-sqlite-fewer",
           "sqlite-share")


def test_the_qps_ratio_is_timed_in_interleaved_rounds():
    try:
        claimcheck.check_timed(qps_ratio)
    except NotMeasurable as why:
        unavailable(why.reason)


@counter_case("qps-within-2x")
def test_a_build_far_slower_breaks_the_qps_finding():
    # the newer SQLite built with assertions on (SQLITE_DEBUG): a fraction of the QPS
    slow = qps_ratio.Ratios({"sqlite3": "3.40.1", "apsw": "3.54.1"}, [0.3] * 7)
    refute(qps_ratio.claims(slow), "qps-within-2x")


def test_reparsing_hurts_point_selects_more_than_long_scans():
    claimcheck.check_timed(per_statement)


@counter_case("reparse-short-vs-long", "reparse-long-scan")
def test_a_cost_paid_per_row_breaks_the_model_findings():
    # a regression in the per-row work of the executor, not per statement: short and
    # long queries lose alike (about what Callaghan's MySQL numbers show at low
    # concurrency: point and range queries both ~30% below 5.6.51)
    alike = per_statement.Relative({name: [0.5] * 7
                                    for name in per_statement.WORKLOADS})
    refute(per_statement.claims(alike), "reparse-short-vs-long", "reparse-long-scan")


@counter_case("reparse-point")
def test_a_per_statement_cost_too_small_to_matter_breaks_the_point_finding():
    # a server whose parse and plan are cheap next to the round trip and the row
    # fetch: even the point select keeps most of its QPS
    cheap = per_statement.Relative({"point select": [0.9] * 7,
                                    "range, 10 rows": [0.95] * 7,
                                    "range, 1,000 rows": [1.0] * 7})
    refute(per_statement.claims(cheap), "reparse-point")
