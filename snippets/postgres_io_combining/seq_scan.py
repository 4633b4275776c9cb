"""A cold sequential scan reads its 109 pages in 109 calls on PostgreSQL 15 and 16;
17 and 18 read them in a few calls that grow up to io_combine_limit."""

from __future__ import annotations

from snippets import report
from snippets.postgres_io_combining import _scan as scan
from snippets.report import check, equals, finding

QUERY = "SELECT count(*) FROM t"
LIMITS = (1, 16, 32)  # 32 blocks = 256 kB, the ceiling of PostgreSQL 17
PAGES = scan.PAGES
RUNS = [(m, None) for m in (15, 16)] + [(m, n) for m in scan.COMBINING for n in LIMITS]

TABLE = check("table-pages", "the demo's table is {bound} on every server",
              equals([PAGES]), unit="pages")
ONE_BY_ONE = {(m, n): finding(
    f"pg{m}-calls" if n is None else f"pg{m}-combine-1-calls",
    f"PostgreSQL {m}{'' if n is None else ' with io_combine_limit 1'} reads the cold "
    "table one page per call: {bound}", equals(PAGES), unit="calls")
    for m, n in RUNS if n in (None, 1)}
SIZES = {(m, n): finding(
    f"pg{m}-combine-{n}-sizes", f"with io_combine_limit {n}, PostgreSQL {m}'s reads "
    "grow from 8 KiB, doubling up to the limit: {bound}",
    equals([s // scan.KIB for s in scan.ramp(PAGES, n)]), unit="KiB")
    for m, n in RUNS if n in (16, 32)}
ONCE = finding("each-page-once", "every scan reads each page once: {bound} per scan",
               equals([PAGES * 8]), unit="KiB")
PREAD = finding("all-pread64", "every read is a {bound} call, even a 256 KiB one (no "
                "preadv)", equals("pread64"))
BACKEND = check("sync-backend", "the backend makes {bound} of the reads itself",
                equals(100), unit="%", fmt=".0f")
EVERY = [TABLE, *ONE_BY_ONE.values(), *SIZES.values(), ONCE, PREAD, BACKEND]


def scan_version(major: int) -> dict:
    """The cold scan on one version, at each io_combine_limit it has."""
    with scan.server(major) as pg:
        relfile, pages = scan.create_table(pg)
        version = pg.server_version()
        runs = {n: scan.cold_reads(pg, relfile, QUERY, f"c{n}",
                                   **scan.combine(major, n))
                for m, n in RUNS if m == major}
    return {"version": version, "pages": pages, "runs": runs}


def measure() -> dict:
    by_version = scan.each_version(scan_version)
    return {"versions": {m: v["version"] for m, v in by_version.items()},
            "pages": {m: v["pages"] for m, v in by_version.items()},
            "runs": {(m, n): run for m, v in by_version.items()
                     for n, run in v["runs"].items()}}


def claims(r: dict) -> list[report.Claim]:
    runs = r["runs"]
    calls = sum(len(run.calls) for run in runs.values())
    return [TABLE.of(sorted(set(r["pages"].values()))),
            *(ONE_BY_ONE[key].of(len(runs[key].calls),
                                 detail=scan.sizes_text(runs[key].sizes))
              for key in ONE_BY_ONE),
            *(SIZES[key].of(runs[key].kib) for key in SIZES),
            ONCE.of(sorted({run.total // scan.KIB for run in runs.values()})),
            PREAD.of(", ".join(sorted(set().union(*(run.names()
                                                    for run in runs.values()))))),
            BACKEND.of(100 * sum(run.by("backend") for run in runs.values())
                       / max(calls, 1))]


def main() -> None:
    try:
        r = measure()
    except report.NotMeasurable as why:
        return report.publish_unmeasured(EVERY, why)
    print("servers:", ", ".join(r["versions"].values()), "\n")
    rows = [[scan.label(*key), len(run.calls), scan.sizes_text(run.sizes),
             run.total // scan.KIB] for key, run in r["runs"].items()]
    print(report.table(["server, io_combine_limit", "calls", "sizes", "KiB"], rows))
    report.publish(claims(r))


if __name__ == "__main__":
    main()
