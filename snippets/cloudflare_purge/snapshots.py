"""A compaction drops a tombstone only when no snapshot still needs what it hides:
while a snapshot from before the deletes is held, the tombstones stay."""

from __future__ import annotations

from pathlib import Path

from snippets.cloudflare_purge._io import scratch
from snippets.cloudflare_purge._rocks import disk_bytes, rocksdb, version
from snippets.cloudflare_purge.tombstones import KEEP, KEYS, load, skips
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    check,
    equals,
    finding,
    need,
    publish,
    publish_unmeasured,
    table,
)

SAMPLE = 100  # deleted keys read back through the snapshot

HELD = finding("snapshot-keeps-tombstones", "compacted with the snapshot held, a scan "
               "still steps over {bound} entries per deleted key: its tombstone and "
               "the value the snapshot can see", equals(2))
DROPPED = finding("release-drops-tombstones", "released, the next compaction leaves "
                  "{bound} entries to step over", equals(0))
KEPT = finding("snapshot-keeps-bytes", "while the snapshot is held, compaction "
               "keeps {bound} the bytes it keeps once it is released", above(100),
               unit="x", fmt=",.0f")
SEES = check("snapshot-sees-deleted", "the held snapshot still reads the {sample} "
             "deleted keys sampled", equals(SAMPLE))
CLAIMS = [HELD, DROPPED, KEPT, SEES]


def measure() -> dict:
    """Load with a snapshot taken between the puts and the deletes, compact; then
    release it and compact again. Both compactions are forced to rewrite the last
    level, which a manual compaction otherwise skips."""
    rd = need("rocksdict")
    force = rd.CompactOptions()
    force.set_bottommost_level_compaction(rd.BottommostLevelCompaction.force())
    deleted = [b"key%08d" % i for i in range(1, KEYS, KEYS // SAMPLE)]
    with scratch() as tmp, rocksdb(Path(tmp) / "db", auto_compact=False) as (db, opts):
        release = version(Path(tmp) / "db")
        snapshot = load(db, hold=True)
        db.compact_range(None, None, force)
        held = {"skipped": skips(db, opts), "disk": disk_bytes(db),
                "sees": sum(snapshot[k] is not None for k in deleted)}
        del snapshot  # released: nothing can read the deleted values any more
        db.compact_range(None, None, force)
        released = {"skipped": skips(db, opts), "disk": disk_bytes(db)}
    return {"held": held, "released": released, "version": release}


def claims(r: dict) -> list[Claim]:
    held, released = r["held"], r["released"]
    return [HELD.of(held["skipped"] / (KEYS - KEEP)),
            DROPPED.of(released["skipped"]),
            KEPT.of(held["disk"] / released["disk"]),
            SEES.of(held["sees"], sample=SAMPLE)]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(CLAIMS, why, sample=SAMPLE)
    print(f"RocksDB {r['version']}: {KEYS:,} keys put; a snapshot; all but {KEEP} "
          "deleted; compacted twice")
    print(table(["after compaction", "entries skipped", "bytes on disk"], [
        [name, f"{v['skipped']:,}", f"{v['disk']:,}"]
        for name, v in (("snapshot held", r["held"]),
                        ("snapshot released", r["released"]))]))
    publish(claims(r))


if __name__ == "__main__":
    main()
