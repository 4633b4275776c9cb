"""The Postgres io-combining episode: exact read counts and sizes on real servers.

PostgreSQL 15, 16, 17 and 18 come from one build recipe (`make setup`); a test that
needs one of them, or strace, skips with the reason where it is missing, and fails
under CI (CI=true), which installs them. No server process or temp dir may outlive
a test. Server life-cycle tests live in tests/test_servers.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from claimcheck import check, check_timed, counter_case, refute

from snippets import pg_server
from snippets.postgres_io_combining import (
    _scan,
    cold_scan,
    io_workers,
    preadv_economy,
    read_too_much,
    seq_scan,
    settings,
)
from snippets.report import NotMeasurable

K = 1024
RAMP = {n: [s // K for s in _scan.ramp(109, n)] for n in (1, 16, 32)}


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
    assert RAMP[1] == [8] * 109
    assert RAMP[16] == [8, 16, 32, 64] + [128] * 5 + [112]
    assert RAMP[32] == [8, 16, 32, 64, 128, 256, 256, 112]
    assert _scan.sizes_text([8 * K, 8 * K, 16 * K]) == "2 × 8K, 16K"
    assert _scan.combine(16, 16) == {}
    assert _scan.combine(17, 32) == {"io_combine_limit": 32}
    assert _scan.combine(18, 32) == {"io_combine_limit": 32, "io_max_combine_limit": 32}


# -- settings ------------------------------------------------------------------------

def test_settings_read_from_each_server():
    need(*pg_server.VERSIONS, strace=False)
    r = measured(settings)
    check(settings.claims(r))
    assert [r[m]["version"].split()[1].split(".")[0] for m in r] == ["15", "16", "17",
                                                                     "18"]


def read_settings(**changes) -> dict:
    """A settings result as the four servers gave it; changes: {major: {name: row}}."""
    base = {"block_size": ["8192", "8192", "8192", "internal"],
            "effective_io_concurrency": ["1", "0", "1000", "user"]}
    rows = {15: dict(base), 16: dict(base), 17: dict(base), 18: dict(base)}
    rows[17]["io_combine_limit"] = ["16", "1", "32", "user"]
    rows[18].update(io_combine_limit=["16", "1", "128", "user"],
                    io_max_combine_limit=["16", "1", "128", "postmaster"],
                    io_method=["worker", "-", "-", "postmaster"],
                    effective_io_concurrency=["16", "0", "1000", "user"])
    for major, more in changes.items():
        rows[int(major[2:])].update(more)
    return {m: {"version": f"PostgreSQL {m}.0", "built": "gcc 7.5.0", "settings": s}
            for m, s in rows.items()}


def test_the_made_up_settings_hold_as_measured():
    check(settings.claims(read_settings()))


@counter_case("combine-since-17", "pg17-combine-range", "block-size")
def test_a_backport_and_a_bigger_page_break_the_17_findings():
    # a 16 with io_combine_limit backported, a 17 that allowed 1 MB, 32 kB pages
    changes = {"pg16": {"io_combine_limit": ["16", "1", "32", "user"]},
               "pg17": {"io_combine_limit": ["16", "1", "128", "user"],
                        "block_size": ["32768", "32768", "32768", "internal"]}}
    refute(settings.claims(read_settings(**changes)), "combine-since-17",
           "pg17-combine-range", "block-size")


@counter_case("pg18-combine-range", "pg18-max-combine", "io-concurrency-defaults")
def test_an_18_before_the_1mb_commit_breaks_the_18_findings():
    # 18 as it was before io_max_combine_limit and the 1 MB range, with the old
    # effective_io_concurrency default of 1
    changes = {"pg18": {"io_combine_limit": ["16", "1", "32", "user"],
                        "io_max_combine_limit": ["16", "1", "32", "user"],
                        "effective_io_concurrency": ["1", "0", "1000", "user"]}}
    refute(settings.claims(read_settings(**changes)), "pg18-combine-range",
           "pg18-max-combine", "io-concurrency-defaults")


# -- the full scan -------------------------------------------------------------------

def test_seq_scan_reads_one_page_per_call_before_17():
    need(*pg_server.VERSIONS)
    r = measured(seq_scan)
    check(seq_scan.claims(r))
    assert [v.split()[1].split(".")[0] for v in r["versions"].values()] == [
        "15", "16", "17", "18"]


def reads(label, sizes_kib, who="backend", call="pread64", answer=""):
    return _scan.Reads(label, [(who, call, k * K) for k in sizes_kib], answer)


def scans(**kib) -> dict:
    """A seq_scan result: the read sizes (KiB) per run ('pg15', 'pg17_16', ...)."""
    runs = {}
    for major, limit in seq_scan.RUNS:
        name = f"pg{major}" + ("" if limit is None else f"_{limit}")
        runs[major, limit] = reads(name, kib.get(name, RAMP[limit or 1]))
    return {"versions": {m: f"PostgreSQL {m}.0" for m in pg_server.VERSIONS},
            "pages": {m: 109 for m in pg_server.VERSIONS}, "runs": runs}


def test_the_made_up_scans_hold_as_measured():
    check(seq_scan.claims(scans()))


@counter_case("pg17-combine-16-sizes", "pg17-combine-32-sizes",
              "pg18-combine-16-sizes", "pg18-combine-32-sizes")
def test_servers_that_read_109_blocks_at_combine_16_break_the_size_findings():
    # a 17 and an 18 that read 109 blocks one by one at io_combine_limit 16 and 32
    # (no read stream, as 16 reads)
    one_by_one = {f"pg{m}_{n}": [8] * 109 for m in (17, 18) for n in (16, 32)}
    refute(seq_scan.claims(scans(**one_by_one)), "pg17-combine-16-sizes",
           "pg17-combine-32-sizes", "pg18-combine-16-sizes", "pg18-combine-32-sizes")


@counter_case("pg15-calls", "pg16-calls", "pg17-combine-1-calls",
              "pg18-combine-1-calls")
def test_servers_that_combine_at_limit_1_break_the_one_page_findings():
    # a 15 and a 16 built with 16 kB reads, a 17 and an 18 that ignore
    # io_combine_limit = 1
    bigger = {"pg15": [16] * 54 + [8], "pg16": [16] * 54 + [8],
              "pg17_1": RAMP[16], "pg18_1": RAMP[16]}
    refute(seq_scan.claims(scans(**bigger)), "pg15-calls", "pg16-calls",
           "pg17-combine-1-calls", "pg18-combine-1-calls")


@counter_case("each-page-once", "all-pread64")
def test_a_scan_that_rereads_with_preadv_breaks_the_findings():
    # a synchronized scan that starts mid-table and reads a page twice, with
    # buffers that are not adjacent in memory, so each read is a preadv
    r = scans(pg17_16=[8, 8, 16, 32, 64] + [128] * 5 + [112])
    r["runs"][18, 32] = reads("pg18_32", RAMP[32], call="preadv")
    refute(seq_scan.claims(r), "each-page-once", "all-pread64")


# -- who makes the reads in 18 -------------------------------------------------------

def test_io_workers_make_the_reads():
    need(18)
    check(io_workers.claims(measured(io_workers)))


def io_result(sync, worker, default="worker", accepted=("sync", "worker")):
    return {"version": "PostgreSQL 18.0", "pages": 109, "default": default,
            "accepted": list(accepted), "runs": {"sync": sync, "worker": worker}}


@counter_case("default-io-method", "sync-backend-reads", "worker-reads-in-workers",
              "io-methods-here")
def test_a_server_that_reads_elsewhere_breaks_the_io_method_findings():
    # a build with liburing whose default is sync, whose io workers hand reads back
    # to the backend, and which hands sync reads to a helper process
    sync = reads("sync", RAMP[16], who="io worker", answer="20000")
    worker = reads("worker", RAMP[16], who="backend", answer="20000")
    r = io_result(sync, worker, default="sync", accepted=("sync", "worker", "io_uring"))
    refute(io_workers.claims(r), "default-io-method", "sync-backend-reads",
           "worker-reads-in-workers", "io-methods-here")


@counter_case("sync-reads", "worker-reads")
def test_reads_that_are_not_combined_break_the_same_reads_findings():
    # both methods reading page by page (io_combine_limit ignored)
    sync = reads("sync", [8] * 109, answer="20000")
    worker = reads("worker", [8] * 109, who="io worker", answer="20000")
    refute(io_workers.claims(io_result(sync, worker)), "sync-reads", "worker-reads")


# -- reading too much ----------------------------------------------------------------

def test_read_too_much():
    need(*pg_server.VERSIONS)
    check(read_too_much.claims(measured(read_too_much)))


AS_SEEN = {(15, None): (1, 6, 33), (16, None): (1, 6, 33), (17, 1): (2, 7, 34),
           (17, 16): (3, 14, 49), (18, 1): (3, 22, 49), (18, 16): (3, 14, 97)}


def early(**pages) -> dict:
    """A read_too_much result: pages read (8 KiB each) per query, per run
    ('pg15', 'pg17_16', ...); the rest as seen here."""
    runs = {}
    for (major, limit), seen in AS_SEEN.items():
        got = pages.get(f"pg{major}" + ("" if limit is None else f"_{limit}"), seen)
        for q, n, answer in zip(read_too_much.QUERIES, got, ("1", "1000", "6000")):
            runs[major, limit, q] = reads(q, [8] * n, answer=answer)
    return {"versions": {m: f"PostgreSQL {m}.0" for m in pg_server.VERSIONS},
            "needed": [1, 6, 33], "runs": runs}


def test_the_made_up_early_stops_hold_as_measured():
    check(read_too_much.claims(early()))


@counter_case("pg15-reads-needed", "pg16-reads-needed")
def test_servers_with_read_ahead_of_their_own_break_the_exact_findings():
    refute(read_too_much.claims(early(pg15=(2, 8, 40), pg16=(1, 7, 34))),
           "pg15-reads-needed", "pg16-reads-needed")


@counter_case("first-row-small")
def test_a_stream_that_starts_at_full_size_breaks_the_first_row_finding():
    # a read stream that starts at io_combine_limit, as a READ_STREAM_FULL stream
    # does: the first read is 16 pages even for a row on page 1
    full = {"pg17_16": (16, 16, 49), "pg18_16": (16, 16, 97)}
    refute(read_too_much.claims(early(**full)), "first-row-small")


@counter_case("pg17-limit-1-one-ahead", "pg17-limit-16-within-16",
              "pg17-combining-more-at-6")
def test_a_17_that_looks_ahead_like_18_breaks_the_17_findings():
    # 17 with 18's rule: look-ahead up to (max_ios + 1) x io_combine_limit
    like_18 = {"pg17_1": AS_SEEN[18, 1], "pg17_16": AS_SEEN[18, 16]}
    refute(read_too_much.claims(early(**like_18)), "pg17-limit-1-one-ahead",
           "pg17-limit-16-within-16", "pg17-combining-more-at-6")


@counter_case("pg18-limit-1-reads-ahead", "pg18-combining-fewer-at-6",
              "pg18-combining-more-at-33")
def test_an_18_that_looks_ahead_like_17_breaks_the_18_findings():
    # 18 with 17's rule: look-ahead capped at io_combine_limit
    like_17 = {"pg18_1": AS_SEEN[17, 1], "pg18_16": AS_SEEN[17, 16]}
    refute(read_too_much.claims(early(**like_17)), "pg18-limit-1-reads-ahead",
           "pg18-combining-fewer-at-6")
    # and one whose look-ahead does not grow with io_combine_limit
    flat = early(pg18_16=(3, 14, 40))
    refute(read_too_much.claims(flat), "pg18-combining-more-at-33")


# -- the same economy without Postgres -----------------------------------------------

def test_preadv_economy():
    check_timed(preadv_economy)


@counter_case("preadv-faster")
def test_cheap_system_calls_break_the_preadv_finding():
    # a machine where a system call costs little next to copying 8 KiB
    r = {"counts": {"pread": (100, 819200), "preadv": (7, 819200)},
         "ratios": [1.1] * 51}
    refute(preadv_economy.claims(r), "preadv-faster")


# -- is it faster? -------------------------------------------------------------------

def test_cold_scan_is_faster_with_combined_direct_reads():
    need(17, 18, strace=False)
    try:
        check_timed(cold_scan)
    except NotMeasurable as why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must measure this: {why.reason}")
        pytest.skip(why.reason)


def test_the_disk_is_named_from_sysfs():
    said = cold_scan.disk(Path("/"))
    assert said == "no block device" or "rotational" in said, said


def timings(direct=(120.0, 26.0, 22.0), buffered=(25.0, 20.0, 20.0)) -> dict:
    """A cold_scan result: ms per scan at io_combine_limit 1, 16, 32 in every round."""
    def rounds(ms):
        return {n: [t] * cold_scan.ROUNDS for n, t in zip(cold_scan.LIMITS, ms)}
    return {m: {"version": f"PostgreSQL {m}.0", "disk": "vda (virtio_blk), "
                "rotational 1, read_ahead_kb 8192", "direct": rounds(direct),
                "buffered": rounds(buffered), "read": {cold_scan.PAGES}}
            for m in (17, 18)}


def test_the_made_up_timings_hold_as_measured():
    check(cold_scan.claims(timings()))


@counter_case("pg17-direct-16-faster", "pg17-direct-32-faster",
              "pg18-direct-16-faster", "pg18-direct-32-faster")
def test_a_disk_where_combining_makes_no_difference_breaks_the_findings():
    # a disk (or a host cache) that serves an 8 kB read as fast, per byte, as a
    # 128 kB one: every scan takes the same time whatever the read size
    flat = timings(direct=(30.0, 29.0, 29.5))
    refute(cold_scan.claims(flat), "pg17-direct-16-faster", "pg17-direct-32-faster",
           "pg18-direct-16-faster", "pg18-direct-32-faster")


@counter_case("page-cache-gains-less")
def test_a_kernel_without_read_ahead_breaks_the_page_cache_finding():
    # read_ahead_kb = 0: through the page cache every 8 kB read goes to the disk,
    # so combining gains as much as with direct I/O
    refute(cold_scan.claims(timings(buffered=(110.0, 25.0, 22.0))),
           "page-cache-gains-less")
