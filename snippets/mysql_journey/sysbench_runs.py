"""sysbench on a real MariaDB: one run proves nothing; interleaved repeats do."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from snippets import report, svg
from snippets.measure import check_timing, one_core
from snippets.mysql_journey import _mariadb
from snippets.report import Claim, above, at_least, check, equals, finding, table

ROUNDS = 5
DATA = ["--tables=1", "--table-size=10000", "--time=0"]  # fixed work, not fixed time
EVENTS = {"point": 2000, "range": 500}  # sysbench events (queries) per run
WORKLOADS = {
    "point": ("oltp_point_select", [f"--events={EVENTS['point']}"]),
    "range": ("oltp_read_only", [f"--events={EVENTS['range']}", "--range-size=100",
                                 "--point-selects=0", "--simple-ranges=1",
                                 "--sum-ranges=0", "--order-ranges=0",
                                 "--distinct-ranges=0", "--skip-trx=on"]),
}
OPTIONS = ("--innodb-stats-auto-recalc=OFF",)  # no background re-reads of the table

WORK = check("sysbench-work", "runs that did other work than asked (one read query "
             "per event, no errors): {bound}", equals(0))
COLD = finding("cold-first-run", "the first run after the restart read {bound} as "
               "many pages into the buffer pool as the median later run (a cold cache; "
               "a median of 0 counts as 1)", at_least(10), unit="x", fmt=".0f")
POINT = finding("point-vs-range", "a point select gets {bound} the QPS of a 100-row "
                "range scan (median of paired rounds)", above(1.3), unit="x",
                fmt=".1f", timing=True)


@dataclass
class Run:
    qps: float
    queries: int  # sysbench's own count of read queries
    events: int
    errors: int
    pages_read: int  # Innodb_buffer_pool_reads in the run: pages not yet in the pool


@dataclass
class Bench:
    server: str  # the name and version the server reports (Server.version())
    runs: dict[str, list[Run]]  # workload: its runs, round by round


def pages_read(db: _mariadb.Server) -> int:
    return int(db.sql("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'").split()[1])


def one_run(db: _mariadb.Server, name: str) -> Run:
    test, args = WORKLOADS[name]
    before = pages_read(db)
    out = _mariadb.sysbench(test, db, *DATA, *args, "run")
    number = {k: re.search(rf"{k}:\s+([\d.]+)", out).group(1)
              for k in ("read", "total number of events", "ignored errors")}
    qps = float(re.search(r"queries:\s+\d+\s+\(([\d.]+) per sec", out).group(1))
    return Run(qps, int(number["read"]), int(number["total number of events"]),
               int(number["ignored errors"]), pages_read(db) - before)


def measure() -> Bench:
    """Load the table, restart (a cold buffer pool), then interleave the workloads,
    sysbench and the server on one core (the hand-over between them stays put)."""
    runs: dict[str, list[Run]] = {name: [] for name in WORKLOADS}
    with one_core(), _mariadb.Server(*OPTIONS) as db:
        server = db.version()
        _mariadb.sysbench("oltp_point_select", db, *DATA, "prepare")
        db.restart()
        for _ in range(ROUNDS):
            for name in WORKLOADS:
                runs[name].append(one_run(db, name))
    return Bench(server, runs)


def claims(bench: Bench) -> list[Claim]:
    point, rng = bench.runs["point"], bench.runs["range"]
    ratios = sorted(p.qps / r.qps for p, r in zip(point, rng))
    later = statistics.median(r.pages_read for r in point[1:] + rng)
    wrong = sum(r.queries != r.events or r.errors > 0 for r in point + rng)
    return [
        WORK.of(wrong),
        COLD.of(point[0].pages_read / max(later, 1),
                detail=f"{point[0].pages_read} pages vs median {later:g}"),
        POINT.of(statistics.median(ratios),
                 detail=f"rounds {ratios[0]:.1f}x..{ratios[-1]:.1f}x"),
    ]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except report.NotMeasurable as why:
        return report.publish_unmeasured([WORK, COLD, POINT], why)
    server, runs = checked.result.server, checked.result.runs
    print(f"{server} (a MySQL fork), sysbench, 1 thread, {ROUNDS} rounds")
    pairs = enumerate(zip(runs["point"], runs["range"]))
    rows = [[i + 1, f"{p.qps:,.0f}", f"{r.qps:,.0f}", f"{p.qps / r.qps:.1f}x",
             p.pages_read] for i, (p, r) in pairs]
    for label, pick in (("median", statistics.median), ("max/min", None)):
        row = [label]
        for name in WORKLOADS:
            qps = [r.qps for r in runs[name]]
            row.append(f"{pick(qps):,.0f}" if pick else f"{max(qps) / min(qps):.1f}x")
        rows.append(row + ["", ""])
    print(table(["round", "point QPS", "range QPS", "point/range",
                 "pages read (point)"], rows))
    chart = svg.line_chart("sysbench QPS, run by run", "round", "queries per second",
                           {name: [(i + 1, r.qps) for i, r in enumerate(runs[name])]
                            for name in WORKLOADS})
    report.publish(checked.claims, figures={"sysbench_runs": chart})


if __name__ == "__main__":
    main()
