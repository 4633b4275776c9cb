"""A cold sequential scan reads 109 pages in 109 reads on PostgreSQL 15, and in
10 growing reads on PostgreSQL 18 with io_combine_limit = 16 (the default)."""

from __future__ import annotations

from collections import Counter

from snippets import report, svg
from snippets.pg_server import NotAvailable, Server, version
from snippets.postgres_io_combining import _scan as scan

QUERY = "SELECT count(*) FROM t"
LIMITS = (1, 16, 32)  # 32 blocks = 256 kB, the ceiling of PostgreSQL 17


def ramp(pages: int, limit: int) -> list[int]:
    """Read sizes if look-ahead doubles from one page up to the limit."""
    sizes, distance = [], 1
    while pages:
        sizes.append(min(distance, limit, pages) * 8 * scan.KIB)
        pages -= sizes[-1] // (8 * scan.KIB)
        distance *= 2
    return sizes


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
    runs, pages = r["runs"], r["pages"][18]
    want = {"PG15": ramp(pages, 1), **{f"PG18 combine {n}": ramp(pages, n)
                                       for n in LIMITS}}
    C = report.Claim
    return [
        C(f"PG15 reads the {pages}-page table one 8 KiB page per call",
          scan.sizes_text(runs["PG15"].sizes), runs["PG15"].sizes == want["PG15"]),
        *(C(f"{name}: read sizes ramp from 8 KiB, doubling up to the limit",
            scan.sizes_text(runs[name].sizes), runs[name].sizes == want[name])
          for name in want if name != "PG15"),
        C("every setting reads each page exactly once",
          ", ".join(f"{run.total // scan.KIB} KiB" for run in runs.values()),
          all(run.total == pages * 8 * scan.KIB for run in runs.values())),
        C("every call is pread64, even a 256 KiB one: no preadv",
          ", ".join(f"{n} {call}" for call, n in sum(
              (scan.count_calls(run) for run in runs.values()), Counter()).items()),
          all(run.names() == {"pread64"} for run in runs.values())),
        C("with io_method = sync the backend makes every read itself",
          ", ".join(str(run.by("backend")) for run in runs.values()),
          all(run.by("backend") == len(run.calls) for run in runs.values())),
    ]


def main() -> None:
    try:
        r = measure()
    except NotAvailable as why:
        return scan.not_measured(__doc__, why)
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
