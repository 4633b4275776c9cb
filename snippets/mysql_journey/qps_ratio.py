"""The same point query timed instead of counted: the QPS ratio of the two SQLite
builds moves from round to round, while their instruction counts repeat exactly."""

from __future__ import annotations

import contextlib
import functools
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from snippets import report
from snippets.measure import check_timing, paired_ratios, rounds
from snippets.mysql_journey import _query
from snippets.mysql_journey.instructions import label, make_db, versions
from snippets.report import Claim, between, finding, need, publish, table

QUERIES, ROUNDS = 1000, 7  # point queries per timed run; interleaved rounds

WITHIN = finding("qps-within-2x", "the newer SQLite's QPS on this point query is "
                 "{bound} the stdlib's (median of paired rounds)", between(0.5, 2),
                 unit="x", fmt=".2f", timing=True)


@dataclass
class Ratios:
    builds: dict[str, str]  # engine: its SQLite version
    ratios: list[float]  # QPS of the newer build / the older, per round


def measure() -> Ratios:
    """QPS of the newer build / the older, within each interleaved round."""
    builds = versions()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "points.db"
        make_db(db)
        with contextlib.ExitStack() as open_dbs:
            runs = {e: functools.partial(_query.run, open_dbs.enter_context(
                contextlib.closing(_query.connect(e, str(db), need))).execute, QUERIES)
                for e in builds}
            ratios = paired_ratios(rounds(ROUNDS, runs), "sqlite3", "apsw")
        return Ratios(builds, ratios)


def claims(r: Ratios) -> list[Claim]:
    return [WITHIN.of(statistics.median(r.ratios), detail=f"rounds "
                      f"{min(r.ratios):.2f}x..{max(r.ratios):.2f}x")]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except report.NotMeasurable as why:
        return report.publish_unmeasured([WITHIN], why)
    builds, ratios = checked.result.builds, checked.result.ratios
    print(f"QPS of {label('apsw', builds['apsw'])}\n    / "
          f"{label('sqlite3', builds['sqlite3'])}, {QUERIES:,} queries per run, "
          f"in {len(ratios)} interleaved rounds:")
    print(table([f"round {i}" for i in range(1, len(ratios) + 1)],
                [[f"{r:.2f}x" for r in ratios]]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
