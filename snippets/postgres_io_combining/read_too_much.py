"""A query that stops early reads exactly the pages it needs on PostgreSQL 15 and 16;
17 reads ahead at most io_combine_limit pages, 18 as far as (max_ios + 1) times it."""

from __future__ import annotations

from snippets import report
from snippets.postgres_io_combining import _scan as scan
from snippets.report import ascending, at_most, check, descending, equals, finding

QUERIES = {"first row": "SELECT id FROM t LIMIT 1",
           "id = 1000": "SELECT id FROM t WHERE id = 1000 LIMIT 1",
           "id = 6000": "SELECT id FROM t WHERE id = 6000 LIMIT 1"}
NEEDED = [1, 6, 33]  # pages a scan must read to reach each query's row
RUNS = [(15, None), (16, None), (17, 1), (17, 16), (18, 1), (18, 16)]
PAGE = 8 * scan.KIB

ROWS_AT = check("row-pages", "the rows the queries look for sit on table pages "
                "{bound} (from their ctid)", equals(NEEDED))
EXACT = {m: finding(f"pg{m}-reads-needed", f"PostgreSQL {m} reads {{bound}} for the "
                    "three queries: just the pages they need", equals(NEEDED),
                    unit="pages") for m in (15, 16)}
ONE_AHEAD = finding("pg17-limit-1-one-ahead", "pages PostgreSQL 17 with "
                    "io_combine_limit 1 reads past each query's row: {bound}",
                    equals([1, 1, 1]))
WITHIN = finding("pg17-limit-16-within-16", "PostgreSQL 17 with io_combine_limit 16 "
                 "reads {bound} past any query's row", at_most(16), unit="pages")
AHEAD_18 = finding("pg18-limit-1-reads-ahead", "the farthest PostgreSQL 18 with "
                   "io_combine_limit 1 reads past a query's row: {bound}", equals(16),
                   unit="pages")
FIRST = finding("first-row-small", "pages PostgreSQL 17 and 18 read, at "
                "io_combine_limit 16, for the row on the first page: {bound}",
                equals([3, 3]))
ORDER = {(m, page): finding(
    f"pg{m}-combining-{'more' if bound.op == 'ascending' else 'fewer'}-at-{page}",
    f"PostgreSQL {m}, row on page {page}: pages read at io_combine_limit 1, then 16, "
    "{bound}", bound) for m, page, bound in ((17, 6, ascending()),
                                              (18, 6, descending()),
                                              (18, 33, ascending()))}
FOUND = check("found-rows", "every run found its row: {bound}",
              equals(["1", "1000", "6000"]))
EVERY = [ROWS_AT, *EXACT.values(), ONE_AHEAD, WITHIN, AHEAD_18, FIRST,
         *ORDER.values(), FOUND]
BLOCK = "(ctid::text::point)[0]::int + 1"  # the row's page number, counted from 1


def early(major: int) -> dict:
    with scan.server(major) as pg:
        relfile, _ = scan.create_table(pg)
        version = pg.server_version()
        needed = [int(pg.sql(sql.replace("id", BLOCK, 1))[0])  # the same row
                  for sql in QUERIES.values()]
        runs = {(n, q): scan.cold_reads(pg, relfile, sql, f"{n} {q}",
                                        **scan.combine(major, n))
                for m, n in RUNS if m == major for q, sql in QUERIES.items()}
    return {"version": version, "needed": needed, "runs": runs}


def measure() -> dict:
    by_version = scan.each_version(early)
    return {"versions": {m: v["version"] for m, v in by_version.items()},
            "needed": by_version[15]["needed"],
            "runs": {(m, n, q): run for m, v in by_version.items()
                     for (n, q), run in v["runs"].items()}}


def pages(r: dict, major: int, limit: int | None) -> list[int]:
    return [r["runs"][major, limit, q].total // PAGE for q in QUERIES]


def past(r: dict, major: int, limit: int | None) -> list[int]:
    return [got - need for got, need in zip(pages(r, major, limit), r["needed"])]


def pages_past(r: dict, major: int, limit: int) -> str:
    """'2, 8, 16 pages past the rows': how far past each query's row it read."""
    return ", ".join(map(str, past(r, major, limit))) + " pages past the rows"


def claims(r: dict) -> list[report.Claim]:
    def both(major: int, page: int) -> list[int]:  # pages read at limit 1, then 16
        at = r["needed"].index(page)
        return [pages(r, major, 1)[at], pages(r, major, 16)[at]]

    return [ROWS_AT.of(r["needed"]),
            *(EXACT[m].of(pages(r, m, None)) for m in EXACT),
            ONE_AHEAD.of(past(r, 17, 1)),
            WITHIN.of(max(past(r, 17, 16)), detail=pages_past(r, 17, 16)),
            AHEAD_18.of(max(past(r, 18, 1)), detail=pages_past(r, 18, 1)),
            FIRST.of([pages(r, m, 16)[0] for m in scan.COMBINING]),
            *(claim.of(both(m, page)) for (m, page), claim in ORDER.items()),
            FOUND.of(sorted({run.answer for run in r["runs"].values()}, key=int))]


def main() -> None:
    try:
        r = measure()
    except report.NotMeasurable as why:
        return report.publish_unmeasured(EVERY, why)
    print("servers:", ", ".join(r["versions"].values()), "\n")
    last = list(QUERIES)[-1]
    rows = [[scan.label(m, n), *pages(r, m, n),
             scan.sizes_text(r["runs"][m, n, last].sizes)] for m, n in RUNS]
    print("pages each query read, by the page its row is on:\n")
    print(report.table(["server, io_combine_limit",
                        *(f"page {n}" for n in r["needed"]),
                        f"the reads for page {r['needed'][-1]}"], rows))
    report.publish(claims(r))


if __name__ == "__main__":
    main()
