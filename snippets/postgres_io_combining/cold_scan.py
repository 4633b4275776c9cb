"""With direct I/O, a cold sequential scan on PostgreSQL 17 and 18 takes well under
half as long with 16- or 32-block reads as with 1-block reads; through the page
cache, where the kernel reads ahead, combining gains less."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from snippets import measure as timing
from snippets import report
from snippets.pg_server import Server
from snippets.postgres_io_combining import _scan as scan
from snippets.report import HostForbids, above, below, check, equals, finding

PAGES, ROUNDS, LIMITS = 1500, 3, (1, 16, 32)  # 12 MB, under shared_buffers / 4
SETUP = ["CREATE EXTENSION pg_buffercache", "BEGIN",  # so scans use no buffer ring
         "CREATE TABLE t (id int, pad int8) WITH (fillfactor = 10)",  # 18 rows a page
         f"INSERT INTO t SELECT g, g FROM generate_series(1, {PAGES * 18}) g",
         "COMMIT", "VACUUM (FREEZE) t", "CHECKPOINT"]
EVICT = ("SELECT count(pg_buffercache_evict(bufferid)) FROM pg_buffercache "
         "WHERE relfilenode = pg_relation_filenode('t')")
EXPLAIN = "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) SELECT count(*) FROM t"
SERVER = {17: {}, 18: {"io_method": "sync", "io_max_combine_limit": 32}}

FASTER = {(m, n): finding(
    f"pg{m}-direct-{n}-faster", f"with direct I/O on {{disk}}, PostgreSQL {m}'s cold "
    f"scan with io_combine_limit {n} takes {{bound}} the time it takes with 1 "
    "(median of paired rounds)", below(0.5), unit="x", fmt=".2f", timing=True)
    for m in SERVER for n in LIMITS[1:]}
CACHE = finding("page-cache-gains-less", "through the page cache (dropped before "
                "each scan), the time ratio of 16-block to 1-block scans is {bound} "
                "its value with direct I/O (medians, both versions)", above(1.5),
                unit="x", fmt=".1f", timing=True)
COLD = check("cold-scans", "every timed scan read the whole table from outside "
             "shared buffers: {bound}", equals([PAGES]), unit="pages")
EVERY = [*FASTER.values(), CACHE, COLD]


def disk(path: Path) -> str:
    """The block device under path as the kernel describes it (sysfs)."""
    dev = os.stat(path).st_dev
    node = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not node.exists():
        return "no block device"
    node = node.resolve()
    node = node.parent if (node / "partition").exists() else node
    driver = (node / "device" / "driver").resolve().name
    facts = [f"{name} {(node / 'queue' / name).read_text().strip()}"
             for name in ("rotational", "read_ahead_kb")]
    return f"{node.name} ({driver}), " + ", ".join(facts)


def scan_ms(pg: Server, limit: int) -> tuple[float, int]:
    """One scan with empty shared buffers: execution time (ms), pages read."""
    out = pg.sql(EVICT, f"SET io_combine_limit = {limit}", EXPLAIN)
    plan = json.loads("\n".join(out[1:]))[0]
    node = plan["Plan"]
    while "Plans" in node:
        node = node["Plans"][0]
    return plan["Execution Time"], node["Shared Read Blocks"]


def rounds(pg: Server, table: Path | None) -> tuple[dict[int, list[float]], set]:
    """Interleaved rounds; with table, its page cache is dropped before each scan."""
    times: dict[int, list[float]] = {n: [] for n in LIMITS}
    read = set()
    for _ in range(ROUNDS):
        for n in LIMITS:
            if table is not None:
                scan.evict(table)
            ms, pages = scan_ms(pg, n)
            times[n].append(ms)
            read.add(pages)
    return times, read


def version_times(major: int) -> dict:
    with Server(major, wal_level="minimal", max_wal_senders=0, **SERVER[major]) as pg:
        pg.sql(*SETUP)
        table = pg.data / pg.sql("SELECT pg_relation_filepath('t')")[0]
        buffered, read = rounds(pg, table)
        try:
            pg.restart(debug_io_direct="data")
            scan_ms(pg, 16)  # untimed: the first direct reads of the file
        except RuntimeError as why:  # a file system without O_DIRECT
            raise HostForbids(f"direct I/O refused here: {why}") from None
        direct, more = rounds(pg, None)
        return {"version": pg.server_version(), "disk": disk(pg.data),
                "buffered": buffered, "direct": direct, "read": read | more}


def measure() -> dict:
    return {major: version_times(major) for major in SERVER}


def ratios(times: dict[int, list[float]], n: int) -> list[float]:
    return [a / b for a, b in zip(times[n], times[1])]


def claims(r: dict) -> list[report.Claim]:
    def median(mode: str, n: int = 16) -> float:
        return statistics.median(x for m in r for x in ratios(r[m][mode], n))
    name = r[17]["disk"].split(",")[0]
    out = []
    for (m, n), claim in FASTER.items():
        got = ratios(r[m]["direct"], n)
        out.append(claim.of(statistics.median(got), disk=name,
                            detail=f"rounds {min(got):.2f}x..{max(got):.2f}x"))
    cache, direct = median("buffered"), median("direct")
    return [*out, CACHE.of(cache / direct, detail=f"page cache {cache:.2f}x, "
                           f"direct {direct:.2f}x"),
            COLD.of(sorted(set().union(*(r[m]["read"] for m in r))))]


def main() -> None:
    try:
        checked = timing.check_timing(measure, claims)
    except report.NotMeasurable as why:
        return report.publish_unmeasured(EVERY, why)
    r = checked.result
    print(f"disk: {r[17]['disk']} - table: {PAGES} pages, cold for every scan\n")
    rows = [[r[m]["version"], mode, n, f"{statistics.median(r[m][mode][n]):.0f}",
             f"{statistics.median(ratios(r[m][mode], n)):.2f}"]
            for m in r for mode in ("buffered", "direct") for n in LIMITS]
    print(report.table(["server", "I/O", "io_combine_limit", "median ms",
                        "x of limit 1"], rows))
    report.publish(checked.claims)


if __name__ == "__main__":
    main()
