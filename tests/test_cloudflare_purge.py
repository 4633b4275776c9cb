"""The cloudflare-purge episode: each demo's claims hold when its functions run here."""

from __future__ import annotations

import tempfile
from pathlib import Path

import claimcheck
import pytest
from claimcheck import check, check_timed

from snippets.cloudflare_purge import (
    _caches,
    commit_per_write,
    compaction,
    propagation,
    purge_designs,
    tombstones,
)
from snippets.cloudflare_purge._io import scratch, write_bytes

# One record in RocksDB's log: a 12-byte batch header (sequence number, count), a
# type byte, then the key and the value, each after a one-byte varint length.
WAL_RECORD = 12 + 1 + 1 + 9 + 1 + 100


unavailable = claimcheck.unavailable


def test_lazy_and_active_purge_agree_but_hold_and_check_differently():
    runs = purge_designs.measure()
    check(purge_designs.claims(runs))
    assert [r["rate"] for r in runs] == purge_designs.RATES
    assert runs[0]["rules"] == 0 and runs[0]["per_read"]["lazy"] == 1


def test_a_purge_hides_an_entry_in_both_designs_and_a_later_put_shows_it():
    for cache in (_caches.Lazy(), _caches.Active()):
        cache.put(0, url=1, tag=7)
        cache.purge(3, tag=7)
        assert cache.get(1)[0] is False
        cache.put(4, url=1, tag=7)
        assert cache.get(1)[0] is True


def test_the_lazy_cache_forgets_a_rule_only_when_no_entry_can_predate_it():
    lazy = _caches.Lazy()
    lazy.purge(10, tag=1)
    lazy.expire(10 + _caches.MAX_AGE - 1)
    assert len(lazy.rules) == 1
    lazy.expire(10 + _caches.MAX_AGE)
    assert lazy.rules == []


def test_one_commit_per_write_sqlite_pages_vs_rocksdb_log():
    result = commit_per_write.measure()
    for sync, counts in result["rocksdb"].items():
        assert counts["wal.bytes"] == commit_per_write.ROWS * WAL_RECORD
        assert counts["wal.synced"] == (commit_per_write.ROWS if sync else 0)
    assert [v["pinned"][0] for v in result["sqlite"].values()] == [4096] * 3
    if write_bytes() is None:
        unavailable("no /proc/self/io here: bytes sent to storage can't be counted")
    check(commit_per_write.claims(result))  # skips if the temp dir is on tmpfs


def test_compaction_rewrites_what_the_log_took_once():
    result = compaction.measure()
    check(compaction.claims(result))
    assert result["entries"] == compaction.KEYS
    assert result["final"]["wal.bytes"] == compaction.KEYS * WAL_RECORD


def test_a_scan_steps_over_tombstones_until_compaction():
    result = check_timed(tombstones)
    deleted = tombstones.KEYS - tombstones.KEEP
    assert result["dbs"]["tombstones"]["skipped"] == 2 * deleted
    assert result["dbs"]["compacted"]["skipped"] == 0


def test_a_hub_never_beats_direct_broadcast():
    result = propagation.measure()
    check(propagation.claims(result))
    assert result["via_hub"][propagation.HUB] == result["direct"][propagation.HUB]
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
