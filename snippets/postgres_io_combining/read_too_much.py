"""A query that stops early still reads ahead on PostgreSQL 18: more pages than it
needs, with or without combining; PostgreSQL 15 reads exactly the pages it needs."""

from __future__ import annotations

from snippets import report
from snippets.pg_server import Server, version
from snippets.postgres_io_combining import _scan as scan
from snippets.report import at_least, at_most, check, equals, finding

QUERIES = {"first row": "SELECT id FROM t LIMIT 1",
           "id = 1000": "SELECT id FROM t WHERE id = 1000 LIMIT 1"}
NEEDED = [1, 6]  # pages a scan must read to reach each query's row
PAGE = 8 * scan.KIB

ROWS_AT = check("row-pages", "the rows the two queries look for sit on table pages "
                "{bound} (from their ctid)", equals(NEEDED))
PG15 = finding("pg15-reads-needed", "PostgreSQL 15 reads {bound} for the two queries, "
               "just the pages they need", equals(NEEDED), unit="pages")
AHEAD = {n: finding(f"combine-{n}-reads-ahead", f"PostgreSQL 18 with io_combine_limit "
                    f"{n} reads more pages than each query needs (extra pages, the "
                    "fewer of the two: {bound})", at_least(1)) for n in (1, 16)}
NO_MORE = finding("combining-adds-none", "combining adds no over-read: "
                  "io_combine_limit 16 reads {bound} more pages than limit 1, for "
                  "either query", at_most(0))
FOUND = check("found-rows", "every run found its row: {bound}", equals(["1", "1000"]))
EVERY = [ROWS_AT, PG15, *AHEAD.values(), NO_MORE, FOUND]


def needed(pg: Server) -> list[int]:
    """Pages a scan must read to reach each query's row: its block number + 1."""
    block = "(ctid::text::point)[0]::int + 1"
    first, thousand = pg.sql(f"SELECT {block} FROM t LIMIT 1",
                             f"SELECT {block} FROM t WHERE id = 1000")
    return [int(first), int(thousand)]


def measure() -> dict:
    runs: dict[tuple[str, str], scan.Reads] = {}
    with Server(15) as pg:
        relfile, _ = scan.create_table(pg)
        pages = needed(pg)
        for q, sql in QUERIES.items():
            runs["PG15", q] = scan.cold_reads(pg, relfile, sql, f"15 {q}")
    with Server(18, io_method="sync") as pg:
        relfile, _ = scan.create_table(pg)
        for limit in (1, 16):
            for q, sql in QUERIES.items():
                runs[f"PG18 combine {limit}", q] = scan.cold_reads(
                    pg, relfile, sql, f"{limit} {q}", io_combine_limit=limit)
    return {"versions": [version(15), version(18)], "needed": pages, "runs": runs}


def pages(r: dict, setting: str) -> list[int]:
    return [r["runs"][setting, q].total // PAGE for q in QUERIES]


def claims(r: dict) -> list[report.Claim]:
    one, sixteen = pages(r, "PG18 combine 1"), pages(r, "PG18 combine 16")
    need = ", ".join(map(str, r["needed"]))
    return [ROWS_AT.of(r["needed"]), PG15.of(pages(r, "PG15")),
            *(AHEAD[n].of(min(got - at for got, at in zip(read, r["needed"])),
                          detail=f"pages read {read[0]}, {read[1]} for {need}")
              for n, read in ((1, one), (16, sixteen))),
            NO_MORE.of(max(b - a for a, b in zip(one, sixteen))),
            FOUND.of(sorted({run.answer for run in r["runs"].values()}))]


def main() -> None:
    try:
        r = measure()
    except report.NotMeasurable as why:
        return report.publish_unmeasured(EVERY, why)
    print("servers:", ", ".join(r["versions"]), "- io_method sync\n")
    need = dict(zip(QUERIES, r["needed"]))
    rows = [[setting, q, need[q] * PAGE // scan.KIB, len(run.calls),
             run.total // scan.KIB, scan.sizes_text(run.sizes)]
            for (setting, q), run in r["runs"].items()]
    print(report.table(["server", "query", "needed KiB", "calls", "read KiB",
                        "sizes"], rows))
    report.publish(claims(r))


if __name__ == "__main__":
    main()
