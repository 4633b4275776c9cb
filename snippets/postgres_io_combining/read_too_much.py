"""A query that stops early still reads ahead on PostgreSQL 18: more pages than it
needs, with or without combining; PostgreSQL 15 reads exactly the pages it needs."""

from __future__ import annotations

from snippets import report
from snippets.pg_server import NotAvailable, Server, version
from snippets.postgres_io_combining import _scan as scan

QUERIES = {"first row": "SELECT id FROM t LIMIT 1",
           "id = 1000": "SELECT id FROM t WHERE id = 1000 LIMIT 1"}
PAGE = 8 * scan.KIB


def needed(pg: Server) -> dict[str, int]:
    """Pages a scan must read to reach each query's row: its block number + 1."""
    block = "(ctid::text::point)[0]::int + 1"
    first, thousand = pg.sql(f"SELECT {block} FROM t LIMIT 1",
                             f"SELECT {block} FROM t WHERE id = 1000")
    return {"first row": int(first), "id = 1000": int(thousand)}


def measure() -> dict:
    runs: dict[tuple[str, str], object] = {}
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


def claims(r: dict) -> list[report.Claim]:
    runs, need = r["runs"], r["needed"]

    def kib(setting: str) -> str:
        return ", ".join(f"{q}: {runs[setting, q].total // scan.KIB} KiB"
                         for q in QUERIES)

    C = report.Claim
    return [
        C("PG15 reads exactly the pages each query needs", kib("PG15"),
          all(runs["PG15", q].total == need[q] * PAGE for q in QUERIES)),
        *(C(f"PG18 combine {n} reads more than each query needs",
            kib(f"PG18 combine {n}"),
            all(runs[f"PG18 combine {n}", q].total > need[q] * PAGE for q in QUERIES))
          for n in (1, 16)),
        C("combining adds no over-read: combine 16 reads no more than combine 1",
          f"{kib('PG18 combine 16')} vs {kib('PG18 combine 1')}",
          all(runs["PG18 combine 16", q].total <= runs["PG18 combine 1", q].total
              for q in QUERIES)),
        C("every run found its row", ", ".join(sorted({run.answer for run in
                                                      runs.values()})),
          {run.answer for run in runs.values()} == {"1", "1000"}),
    ]


def main() -> None:
    try:
        r = measure()
    except NotAvailable as why:
        return scan.not_measured(__doc__, why)
    print("servers:", ", ".join(r["versions"]), "- io_method sync\n")
    rows = [[setting, q, r["needed"][q] * PAGE // scan.KIB, len(run.calls),
             run.total // scan.KIB, scan.sizes_text(run.sizes)]
            for (setting, q), run in r["runs"].items()]
    print(report.table(["server", "query", "needed KiB", "calls", "read KiB",
                        "sizes"], rows))
    report.publish(claims(r))


if __name__ == "__main__":
    main()
