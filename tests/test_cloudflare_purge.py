"""The cloudflare-purge episode: each demo's claims hold when its functions run here,
and a made-up result from a system that behaves otherwise breaks each finding."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
from claimcheck import check, check_timed, counter_case, refute, unavailable

from snippets.cloudflare_purge import (
    _stores,
    commit_per_write,
    compaction,
    propagation,
    purge_cost,
    purge_designs,
    purge_reads,
    snapshots,
    tombstones,
)
from snippets.cloudflare_purge._io import scratch
from snippets.report import NotMeasurable, need

ROCKSDB_DEMOS = [commit_per_write, compaction, tombstones, snapshots, purge_cost,
                 purge_reads]


def measured(demo):
    """demo.measure(), or a skip (a failure under CI) where it can't run here."""
    try:
        return demo.measure()
    except NotMeasurable as why:
        unavailable(why.reason)


# -- lazy vs active purge (a model) --------------------------------------------------


def test_lazy_and_active_purge_agree_but_hold_and_check_differently():
    runs = purge_designs.measure()
    check(purge_designs.claims(runs))
    assert runs[0].rules == 0 and runs[0].per_read["lazy"] == 1  # no purge, no rule


def model_run(rate: int, lazy: int, active: int, checks: float) -> purge_designs.Run:
    return purge_designs.Run(rate, 0, rate * 5, rate * 5, 0,
                             {"lazy": lazy, "active": active},
                             {"lazy": checks, "active": 1.0})


@counter_case("lazy-holds-stale", "lazy-read-grows")
def test_purges_of_uncached_tags_and_rules_indexed_by_tag_break_the_model():
    # every purge names a tag no cached entry carries, so the active cache deletes
    # nothing; and the lazy cache files its rules by tag, so a read checks only its
    # own tag's few rules, about as many at every rate
    runs = [model_run(rate, 395, 395, checks) for rate, checks in
            zip(purge_designs.RATES, [1.0, 1.1, 1.1, 1.0, 1.1])]
    refute(purge_designs.claims(runs), "lazy-holds-stale", "lazy-read-grows")


def test_a_purge_hides_an_entry_in_both_designs_and_a_later_put_shows_it():
    for cache in (purge_designs.Lazy(), purge_designs.Active()):
        cache.put(0, url=1, tag=7)
        cache.purge(3, tag=7)
        assert cache.get(1)[0] is False
        cache.put(4, url=1, tag=7)
        assert cache.get(1)[0] is True


def test_the_lazy_cache_forgets_a_rule_only_when_no_entry_can_predate_it():
    lazy = purge_designs.Lazy()
    lazy.purge(10, tag=1)
    lazy.expire(10 + purge_designs.MAX_AGE - 1)
    assert len(lazy.rules) == 1
    lazy.expire(10 + purge_designs.MAX_AGE)
    assert lazy.rules == []


# -- one durable commit per write --------------------------------------------------


def test_one_commit_per_write_sqlite_pages_vs_rocksdb_log():
    runs = measured(commit_per_write)
    check(commit_per_write.claims(runs))
    if not commit_per_write.counted(runs):
        unavailable(commit_per_write.UNCOUNTED)


def test_without_proc_self_io_only_the_storage_findings_go_unchecked(monkeypatch,
                                                                    capsys):
    try:
        need("rocksdict")
    except NotMeasurable as why:
        unavailable(why.reason)
    monkeypatch.setattr(commit_per_write, "write_bytes", lambda: None)
    monkeypatch.delenv("SNIPPET_OUTPUT_DIR", raising=False)
    commit_per_write.main()
    out = capsys.readouterr().out
    assert out.count("held: ") == 6 and out.count("not checked here: ") == 3
    assert commit_per_write.UNCOUNTED in out


def commits(sqlite_wal: int, rocks_log: int, record: int = 124,
            io: tuple[int, ...] = (24_740, 8_438, 4_342, 4_178, 164)
            ) -> dict[str, commit_per_write.Run]:
    """Made-up runs of 50 commits: log bytes per commit, write_bytes per row."""
    rows = commit_per_write.ROWS
    logs = [None, sqlite_wal, sqlite_wal, rocks_log, rocks_log]
    names = ["SQLite DELETE/FULL", "SQLite WAL/FULL", "SQLite WAL/NORMAL",
             commit_per_write.FSYNC, commit_per_write.NO_FSYNC]
    settings = commit_per_write.ASKED.bound.value + ["", ""]
    return {name: commit_per_write.Run(
                None if log is None else log * rows, per_row * rows, asked,
                syncs=rows if name == commit_per_write.FSYNC else 0,
                logged=record * rows)
            for name, log, per_row, asked in zip(names, logs, io, settings)}


def test_the_made_up_commits_look_like_the_real_ones():
    check(commit_per_write.claims(commits(sqlite_wal=4_367, rocks_log=131)))


@counter_case("rocksdb-log", "wal-vs-log")
def test_an_lsm_that_pads_each_synced_record_to_a_block_loses_its_edge():
    padded = commits(sqlite_wal=4_367, rocks_log=4_096)
    refute(commit_per_write.claims(padded), "rocksdb-log", "wal-vs-log")


@counter_case("sqlite-frame")
def test_a_b_tree_that_logs_only_the_changed_row_breaks_the_frame_finding():
    logical = commits(sqlite_wal=140, rocks_log=131)
    refute(commit_per_write.claims(logical), "sqlite-frame", "wal-vs-log")


@counter_case("rocksdb-record")
def test_a_rocksdb_that_stores_a_timestamp_per_key_writes_bigger_records():
    stamped = commits(sqlite_wal=4_367, rocks_log=139, record=132)
    refute(commit_per_write.claims(stamped), "rocksdb-record")


@counter_case("sqlite-page-per-commit", "rocksdb-synced-page")
def test_a_kernel_that_counts_512_byte_blocks_breaks_the_page_findings():
    blocks = commits(4_367, 131, io=(1_536, 1_024, 700, 512, 131))
    refute(commit_per_write.claims(blocks), "sqlite-page-per-commit",
           "rocksdb-synced-page")


@counter_case("rocksdb-unsynced-share")
def test_an_lsm_writing_its_log_in_whole_blocks_without_fsync_breaks_the_share():
    direct = commits(4_367, 131, io=(24_740, 8_438, 4_342, 4_178, 4_100))
    refute(commit_per_write.claims(direct), "rocksdb-unsynced-share")


# -- compaction ----------------------------------------------------------------------


def test_compaction_rewrites_what_the_log_took_once():
    check(compaction.claims(measured(compaction)))


def amplification(wal: float, flush: float, compact: float) -> dict:
    user = compaction.KEYS * 109
    final = {"wal.bytes": wal * user, "flush.write.bytes": flush * user,
             "compact.write.bytes": compact * user}
    return {"user": user, "loaded": final, "final": final,
            "entries": compaction.KEYS, "disk": user}


@counter_case("flush-rewrites", "compaction-rewrites", "write-amplification")
def test_a_log_with_a_hash_index_writes_each_record_once():
    # a Bitcask-like store: the log is the data, nothing is flushed or compacted
    refute(compaction.claims(amplification(1.14, 0.0, 0.0)), "flush-rewrites",
           "compaction-rewrites", "write-amplification")


@counter_case("log-once")
def test_an_engine_that_logs_every_record_twice_breaks_the_log_finding():
    # a doublewrite buffer in front of the log
    refute(compaction.claims(amplification(2.28, 1.06, 2.26)), "log-once")


# -- tombstones ----------------------------------------------------------------------


def test_a_scan_steps_over_tombstones_until_compaction():
    try:
        check_timed(tombstones)
    except NotMeasurable as why:
        unavailable(why.reason)


def scans(skipped: int, left: int, disk: int, ratio: float) -> dict:
    """A made-up run: entries each scan skipped, compacted bytes, the time ratio."""
    return {"dbs": {"tombstones": {"found": 10, "skipped": skipped, "disk": 6_363_475},
                    "compacted": {"found": 10, "skipped": left, "disk": disk}},
            "ratio": ratio}


@counter_case("skips-per-delete", "tombstone-scan-slower")
def test_an_lsm_whose_scan_does_not_slow_over_tombstones():
    # its flush drops the value a tombstone hides, and its iterator seeks past a run
    # of tombstones instead of stepping over them one by one
    deleted = tombstones.KEYS - tombstones.KEEP
    refute(tombstones.claims(scans(deleted, 0, 2_226, 1.2)), "skips-per-delete",
           "tombstone-scan-slower")


@counter_case("skips-after-compaction", "compaction-shrinks")
def test_a_compaction_that_keeps_tombstones_leaves_the_scan_and_files_as_they_were():
    # a compaction into a level that is not the last must keep each tombstone
    deleted = tombstones.KEYS - tombstones.KEEP
    refute(tombstones.claims(scans(2 * deleted, deleted, 1_100_000, 50.0)),
           "skips-after-compaction", "compaction-shrinks")


# -- a snapshot held across compaction -------------------------------------------


def test_a_held_snapshot_keeps_tombstones_through_compaction():
    check(snapshots.claims(measured(snapshots)))


def held_and_released(held: int, released: int, disk: tuple[int, int]) -> dict:
    """A made-up run: entries skipped per deleted key, bytes on disk."""
    deleted = tombstones.KEYS - tombstones.KEEP
    return {"held": {"skipped": held * deleted, "disk": disk[0], "sees": 100},
            "released": {"skipped": released * deleted, "disk": disk[1]}}


@counter_case("snapshot-keeps-tombstones", "snapshot-keeps-bytes")
def test_a_compaction_that_ignores_snapshots_drops_tombstones_at_once():
    # what a reader of the snapshot would then miss: the deleted values
    refute(snapshots.claims(held_and_released(0, 0, (2_226, 2_226))),
           "snapshot-keeps-tombstones", "snapshot-keeps-bytes")


@counter_case("release-drops-tombstones")
def test_a_manual_compaction_that_skips_the_last_level_keeps_them_after_release():
    # RocksDB's default for compact_range: kIfHaveCompactionFilter
    refute(snapshots.claims(held_and_released(2, 2, (6_312_201, 6_312_201))),
           "release-drops-tombstones", "snapshot-keeps-bytes")


# -- purges by prefix: what they write ----------------------------------------------


def test_a_prefix_is_exactly_one_hosts_keys():
    start, end = _stores.prefix(7)
    assert _stores.key(6, _stores.FILES - 1) < start <= _stores.key(7, 0)
    assert _stores.key(7, _stores.FILES - 1) < end <= _stores.key(8, 0)


def test_a_purge_by_prefix_is_one_record_for_deleterange():
    try:
        check_timed(purge_cost)
    except NotMeasurable as why:
        unavailable(why.reason)


def purges(range_log: int, sqlite_log: int, range_time: float) -> dict:
    """Made-up rounds: log bytes per purge, seconds per purge (key by key: 2 ms,
    SQLite: 1.5 ms), every purge removing its 2,000 keys."""
    n, files = purge_cost.ROUNDS, purge_cost.FILES
    return {"log": {_stores.RANGE: [range_log] * n, _stores.KEYS: [40_012] * n,
                    _stores.SQLITE: [sqlite_log] * n},
            "times": {_stores.RANGE: [range_time] * n, _stores.KEYS: [0.002] * n,
                      _stores.SQLITE: [0.0015] * n},
            "removed": {_stores.RANGE: [-1] * n, _stores.KEYS: [files] * n,
                        _stores.SQLITE: [files] * n},
            "left": [purge_cost.LEFT] * 3}


def test_the_made_up_purges_look_like_the_real_ones():
    check(purge_cost.claims(purges(31, 325_480, 0.00003)))


@counter_case("range-delete-record", "key-by-key-log", "range-delete-fastest")
def test_a_range_delete_that_expands_into_point_deletes_costs_as_much():
    # DeleteRange as a library helper over scan-and-delete, as before range tombstones
    refute(purge_cost.claims(purges(40_012, 325_480, 0.0021)),
           "range-delete-record", "key-by-key-log", "range-delete-fastest")


@counter_case("sqlite-purge-pages")
def test_a_b_tree_that_frees_emptied_pages_without_logging_them_breaks_it():
    # only the parent and the freelist trunk page logged: 4 frames of 4,120 bytes
    refute(purge_cost.claims(purges(31, 4 * 4_120, 0.00003)), "sqlite-purge-pages")


# -- purges by prefix: what they cost a read -----------------------------------------


def test_reads_step_over_key_by_key_deletes_but_not_range_deletes():
    try:
        check_timed(purge_reads)
    except NotMeasurable as why:
        unavailable(why.reason)


def reads(per_key: int, range_skips: int, grow: dict[str, float]) -> list[dict]:
    """Made-up steps: entries skipped, and read times growing linearly from 3 us
    (DeleteRange), 240 us (key by key), 4.4 us (SQLite) by `grow` x over 10 purges."""
    files, steps = purge_reads.FILES, []
    first = {_stores.RANGE: 3e-6, _stores.KEYS: 240e-6, _stores.SQLITE: 4.4e-6}
    for i in range(purge_reads.PURGES):
        best = {n: t * (1 + (grow[n] - 1) * i / (purge_reads.PURGES - 1))
                for n, t in first.items()}
        steps.append({"wrong": 0, "best": best,
                      "skips": {_stores.KEYS: per_key * (i + 1) * files,
                                _stores.RANGE: range_skips * (i + 1) * files}})
    return steps


LIKE_HERE = {_stores.RANGE: 3.5, _stores.KEYS: 10.0, _stores.SQLITE: 1.0}


def test_the_made_up_reads_look_like_the_real_ones():
    check(purge_reads.claims(reads(2, 0, LIKE_HERE)))


@counter_case("range-delete-skips")
def test_a_rocksdb_before_7_7_steps_over_every_covered_key():
    # before facebook/rocksdb#10449 DBIter checked each covered key in turn
    refute(purge_reads.claims(reads(2, 1, LIKE_HERE)), "range-delete-skips")


@counter_case("key-by-key-skips", "key-by-key-read-grows", "key-by-key-vs-range-read")
def test_an_lsm_that_seeks_past_runs_of_tombstones_does_not_slow():
    flat = {_stores.RANGE: 3.5, _stores.KEYS: 1.0, _stores.SQLITE: 1.0}
    steps = reads(0, 0, flat)
    for step in steps:
        step["best"][_stores.KEYS] = step["best"][_stores.RANGE] * 2
    refute(purge_reads.claims(steps), "key-by-key-skips", "key-by-key-read-grows",
           "key-by-key-vs-range-read")


@counter_case("range-delete-read-grows")
def test_adjacent_range_tombstones_merged_into_one_leave_one_seek():
    merged = {_stores.RANGE: 1.05, _stores.KEYS: 10.0, _stores.SQLITE: 1.0}
    refute(purge_reads.claims(reads(2, 0, merged)), "range-delete-read-grows")


@counter_case("sqlite-read-flat")
def test_a_b_tree_that_only_marks_rows_deleted_slows_like_an_lsm():
    # ghost records: deleted rows stay in their pages until a background purge
    ghosts = {_stores.RANGE: 3.5, _stores.KEYS: 10.0, _stores.SQLITE: 10.0}
    refute(purge_reads.claims(reads(2, 0, ghosts)), "sqlite-read-flat")


@pytest.mark.parametrize("demo", ROCKSDB_DEMOS, ids=lambda d: d.__name__)
def test_a_python_without_rocksdict_says_what_to_install(demo, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rocksdict", None)  # `import rocksdict` fails
    monkeypatch.delenv("SNIPPET_OUTPUT_DIR", raising=False)
    demo.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(line.startswith("not checked here: ") for line in lines[:-1])
    assert "rocksdict is not installed" in lines[-1] and "make setup" in lines[-1]


# -- propagation (a model) ---------------------------------------------------------


def test_a_hub_never_beats_direct_broadcast():
    check(propagation.claims(propagation.measure()))
    # London to New York is about 5,570 km along the great circle
    assert propagation.km("London", "New York") == pytest.approx(5_570, rel=0.01)
    assert propagation.floor_ms(1_000) == pytest.approx(4.9, abs=0.05)


def test_database_files_live_where_the_build_deletes_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPET_OUTPUT_DIR", str(tmp_path))
    with scratch() as folder:
        assert Path(folder).parent == tmp_path  # removed by the build even on SIGKILL
    assert list(tmp_path.iterdir()) == []
    monkeypatch.delenv("SNIPPET_OUTPUT_DIR")
    with scratch() as folder:
        assert Path(folder).parent == Path(tempfile.gettempdir())
