"""A MODEL, not MySQL: a cost paid once per statement hurts short queries most.

SQLite re-parsing and re-planning every statement (`cached_statements=0`) stands in
for "a new version that spends more CPU per statement". In the model a point select
loses much of its QPS and a 1,000-row range scan barely notices. MySQL's own
measurements (Callaghan's) do not split this way: see the page."""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
from dataclasses import dataclass
from functools import partial

from snippets.measure import check_timing, paired_ratios, rounds
from snippets.report import Claim, above, below, finding, publish, table

ROWS = 10_000
WORKLOADS = {  # name: (rows per query, queries per timed run)
    "point select": (1, 2000),
    "range, 10 rows": (10, 1000),
    "range, 1,000 rows": (1000, 40),
}

GAP = finding("reparse-short-vs-long", "model (SQLite): re-parsing every statement "
              "costs a point select and a 10-row range each {bound} more relative QPS "
              "than a 1,000-row scan (difference of medians)", above(0.2), fmt=".2f",
              timing=True)
POINT = finding("reparse-point", "model (SQLite): a point select keeps {bound} of its "
                "QPS when every statement is re-parsed (relative QPS, median)",
                below(0.6), fmt=".2f", timing=True)
LONG = finding("reparse-long-scan", "model (SQLite): a 1,000-row scan keeps {bound} of "
               "its QPS when every statement is re-parsed (relative QPS, median)",
               above(0.7), fmt=".2f", timing=True)


@dataclass
class Relative:
    ratios: dict[str, list[float]]  # QPS with re-parsing / QPS with cached plans

    def median(self, name: str) -> float:
        return statistics.median(self.ratios[name])


def database(cached: int) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", cached_statements=cached)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INT, c TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?)",
                   [(i, i * 7 % ROWS, "x" * 100) for i in range(ROWS)])
    return db


def queries(db: sqlite3.Connection, span: int, count: int) -> int:
    sql = "SELECT c FROM t WHERE id BETWEEN ? AND ?"
    return sum(len(db.execute(sql, (lo, lo + span - 1)).fetchall())
               for lo in range(0, count * 97, 97))


def measure(repeats: int = 15) -> Relative:
    with contextlib.closing(database(128)) as cached, \
            contextlib.closing(database(0)) as reparse:
        ratios = {}
        for name, (span, count) in WORKLOADS.items():
            times = rounds(repeats, {"cached": partial(queries, cached, span, count),
                                     "reparse": partial(queries, reparse, span, count)})
            ratios[name] = paired_ratios(times, "cached", "reparse")  # QPS new / old
    return Relative(ratios)


def claims(r: Relative) -> list[Claim]:
    point, short, long = (r.median(name) for name in WORKLOADS)
    return [GAP.of(long - max(point, short), detail=f"point {point:.2f}, 10 rows "
                   f"{short:.2f}, 1,000 rows {long:.2f}"),
            POINT.of(point), LONG.of(long)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"MODEL: SQLite {sqlite3.sqlite_version}, cached plans vs re-parse "
          "each statement")
    print(table(["query", "relative QPS (median)", "min", "max"],
                [[name, f"{r.median(name):.2f}", f"{min(v):.2f}", f"{max(v):.2f}"]
                 for name, v in r.ratios.items()]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
