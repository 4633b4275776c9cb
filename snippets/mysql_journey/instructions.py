"""Code per query, counted: callgrind gives the same point query on two SQLite versions
an exact, repeatable instruction count (`qps_ratio.py` times the same query)."""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from snippets import report
from snippets.mysql_journey import _query
from snippets.report import Claim, below, equals, finding, need, publish, table

N, PHASES = 200, 3  # phase 1 warms up (opens, prepares); phases 2 and 3 must agree
ROWS = 1000  # rows in the table

EXACT = finding("callgrind-exact", "callgrind's count inside sqlite3_step differs "
                "between the two warm phases by {bound}", equals(0),
                unit="instructions")
FEWER = finding("newer-sqlite-fewer", "the newer SQLite (apsw's) runs this point "
                "query in {bound} the instructions of the stdlib's (inside "
                "sqlite3_step)", below(0.9), unit="x", fmt=".2f")
SHARE = finding("sqlite-share", "inside sqlite3_step is {bound} of the instructions a "
                "point query costs from Python", below(50), unit="%", fmt=".0f")


def versions() -> dict[str, str]:
    """The two builds' SQLite: the stdlib's, and the newer one apsw bundles."""
    return {"sqlite3": sqlite3.sqlite_version,
            "apsw": need("apsw").sqlite_lib_version()}


def label(engine: str, version: str) -> str:
    return f"{'stdlib ' if engine == 'sqlite3' else ''}{engine}, SQLite {version}"


@dataclass
class Count:
    sqlite: str  # the SQLite version of this build
    step: list[int]  # instructions inside sqlite3_step, per warm phase of N queries
    total: list[int]  # instructions of the whole process, per warm phase


def make_db(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # commit, then close
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INT, c TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?)",
                       [(i, i * 7 % ROWS, "x" * 100) for i in range(1, ROWS + 1)])


def callgrind(folder: Path, db: Path) -> dict[str, Count]:
    """Both engines in one callgrind run, one profile dump per phase."""
    site = str(Path(need("apsw").__file__).parents[1])
    builds = versions()
    subprocess.run(
        ["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={folder / 'cg'}",
         "--dump-before=getppid", sys.executable, "-S", "-E", _query.__file__,
         str(db), str(N), str(PHASES), site, *builds], stdout=subprocess.DEVNULL,
        check=True, timeout=600)
    number = r"([\d,]+) \(\s*[\d.]+%\)\s+"
    counts = {}
    for first, e in enumerate(builds):
        step, total = [], []
        for phase in range(first * PHASES + 2, (first + 1) * PHASES + 1):
            text = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                                   f"{folder / 'cg'}.{phase}"], capture_output=True,
                                  text=True, timeout=120, check=True).stdout
            total.append(int(re.search(number + "PROGRAM TOTALS", text)[1]
                             .replace(",", "")))
            step.append(int(re.search(number + r"\S*sqlite3_step\b", text)[1]
                            .replace(",", "")))
        counts[e] = Count(builds[e], step, total)
    return counts


def measure() -> dict[str, Count]:
    tools = [t for t in ("valgrind", "callgrind_annotate") if not shutil.which(t)]
    if tools:
        raise report.MissingTool(f"{' and '.join(tools)} not installed "
                          "(apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp), Path(tmp) / "points.db"
        make_db(db)
        return callgrind(folder, db)


def claims(counts: dict[str, Count]) -> list[Claim]:
    old, new = counts["sqlite3"], counts["apsw"]
    per = {e: c.step[0] / N for e, c in counts.items()}
    return [
        EXACT.of(max(max(c.step) - min(c.step) for c in counts.values()),
                 detail="the larger of the two builds"),
        FEWER.of(per["apsw"] / per["sqlite3"], detail=f"SQLite {new.sqlite} vs "
                 f"{old.sqlite}: {per['apsw']:,.0f} vs {per['sqlite3']:,.0f} a query"),
        SHARE.of(max(100 * c.step[0] / c.total[0] for c in counts.values()),
                 detail="the larger of the two builds"),
    ]


def main() -> None:
    try:
        counts = measure()
    except report.NotMeasurable as why:
        return report.publish_unmeasured([EXACT, FEWER, SHARE], why)
    print(f"the same point query, {N:,} times per phase, phases 2 and 3")
    print(table(["build", "in sqlite3_step / query", "whole process / query"],
                [[label(e, c.sqlite), " = ".join(f"{s / N:,.0f}" for s in c.step),
                  " ~ ".join(f"{t / N:,.0f}" for t in c.total)]
                 for e, c in counts.items()]))
    publish(claims(counts))


if __name__ == "__main__":
    main()
