"""A cold sequential scan reads 109 pages in 109 reads on PostgreSQL 15, and in
10 growing reads on PostgreSQL 18 with io_combine_limit = 16 (the default)."""

from __future__ import annotations

from snippets import report, svg
from snippets.pg_server import Server, version
from snippets.postgres_io_combining import _scan as scan
from snippets.report import check, equals, finding

QUERY = "SELECT count(*) FROM t"
LIMITS = (1, 16, 32)  # 32 blocks = 256 kB, the ceiling of PostgreSQL 17
PAGES, PAGE_KIB = scan.PAGES, 8


def ramp(pages: int, limit: int) -> list[int]:
    """Read sizes if look-ahead doubles from one page up to the limit."""
    sizes, distance = [], 1
    while pages:
        sizes.append(min(distance, limit, pages) * 8 * scan.KIB)
        pages -= sizes[-1] // (8 * scan.KIB)
        distance *= 2
    return sizes


TABLE = check("table-pages", "the demo's table is {bound} on both servers",
              equals([PAGES]), unit="pages")
CALLS = {"PG15": finding("pg15-calls", "PostgreSQL 15 reads the cold table in {bound}",
                         equals(PAGES), unit="calls"),
         **{f"PG18 combine {n}": finding(
             f"combine-{n}-calls", f"PostgreSQL 18 with io_combine_limit {n} reads "
             "the cold table in {bound}", equals(len(ramp(PAGES, n))), unit="calls")
            for n in LIMITS}}
SIZES = {f"PG18 combine {n}": finding(
    f"combine-{n}-sizes", f"with io_combine_limit {n}, PostgreSQL 18's reads grow from "
    "8 KiB, doubling up to the limit: {bound}",
    equals([s // scan.KIB for s in ramp(PAGES, n)]), unit="KiB") for n in (16, 32)}
ONCE = finding("each-page-once", "every scan reads each page once: {bound} per scan",
               equals([PAGES * PAGE_KIB]), unit="KiB")
PREAD = finding("all-pread64", "every read is a {bound} call, even a 256 KiB one (no "
                "preadv)", equals("pread64"))
BACKEND = check("sync-backend", "with io_method = sync the backend makes {bound} of "
                "the reads itself", equals(100), unit="%", fmt=".0f")
EVERY = [TABLE, *CALLS.values(), *SIZES.values(), ONCE, PREAD, BACKEND]


def measure() -> dict:
    runs, pages = {}, {}
    with Server(15) as pg:
        relfile, pages[15] = scan.create_table(pg)
        runs["PG15"] = scan.cold_reads(pg, relfile, QUERY, "PG15")
    with Server(18, io_method="sync") as pg:
        relfile, pages[18] = scan.create_table(pg)
        for limit in LIMITS:
            cap = {"io_max_combine_limit": limit} if limit > 16 else {}
            runs[f"PG18 combine {limit}"] = scan.cold_reads(
                pg, relfile, QUERY, f"c{limit}", io_combine_limit=limit, **cap)
    return {"versions": [version(15), version(18)], "pages": pages, "runs": runs}


def claims(r: dict) -> list[report.Claim]:
    runs = r["runs"].values()
    calls = sum(len(run.calls) for run in runs)
    return [TABLE.of(sorted(set(r["pages"].values()))),
            *(CALLS[name].of(len(r["runs"][name].calls)) for name in CALLS),
            *(SIZES[name].of(r["runs"][name].kib) for name in SIZES),
            ONCE.of(sorted({run.total // scan.KIB for run in runs})),
            PREAD.of(", ".join(sorted(set().union(*(run.names() for run in runs))))),
            BACKEND.of(100 * sum(run.by("backend") for run in runs) / max(calls, 1))]


def main() -> None:
    try:
        r = measure()
    except report.NotMeasurable as why:
        return report.publish_unmeasured(EVERY, why)
    print("servers:", ", ".join(r["versions"]), f"- table: {r['pages'][18]} pages\n")
    rows = [[name, len(run.calls), scan.sizes_text(run.sizes), run.total // scan.KIB,
             run.by("backend")] for name, run in r["runs"].items()]
    print(report.table(["server, io_combine_limit", "calls", "sizes", "KiB",
                        "by backend"], rows))
    calls = svg.bar_chart("read calls to scan the cold table", "read calls",
                          [(name, len(run.calls)) for name, run in r["runs"].items()])
    run = r["runs"]["PG18 combine 16"]
    sizes = svg.bar_chart("PG18, io_combine_limit 16: each read in order", "KiB",
                          [(f"read {i}", s // scan.KIB) for i, s in
                           enumerate(run.sizes, 1)])
    report.publish(claims(r), figures={"read-calls": calls, "read-sizes": sizes})


if __name__ == "__main__":
    main()
