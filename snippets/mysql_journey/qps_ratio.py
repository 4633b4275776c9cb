"""The same point query timed instead of counted: the QPS ratio of the two SQLite
builds moves from round to round, while their instruction counts repeat exactly."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from snippets.measure import check_timing, paired_ratios, rounds
from snippets.mysql_journey import _query
from snippets.mysql_journey.instructions import ENGINES, make_db
from snippets.report import Claim, publish, table

QUERIES, ROUNDS = 1000, 7  # point queries per timed run; interleaved rounds


def measure() -> list[float]:
    """QPS of the newer build / the older, within each interleaved round."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "points.db"
        make_db(db)
        runs = {e: (lambda x=_query.connect(e, str(db)): _query.run(x, QUERIES))
                for e in ENGINES}
        return paired_ratios(rounds(ROUNDS, runs), "sqlite3", "apsw")


def claims(ratios: list[float]) -> list[Claim]:
    median, low, high = statistics.median(ratios), min(ratios), max(ratios)
    return [Claim("the two builds are within 2x of each other on this query "
                  "(median QPS ratio between 0.5 and 2)",
                  f"median {median:.2f}x, rounds {low:.2f}x..{high:.2f}x",
                  0.5 < median < 2, timing=True)]


def main() -> None:
    checked = check_timing(measure, claims)
    print(f"QPS of {ENGINES['apsw']}\n    / {ENGINES['sqlite3']}, {QUERIES:,} "
          f"queries per run, in {ROUNDS} interleaved rounds:")
    print(table([f"round {i}" for i in range(1, ROUNDS + 1)],
                [[f"{r:.2f}x" for r in checked.result]]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
