"""Code per query, counted: callgrind gives the same point query on two SQLite versions
an exact, repeatable instruction count (`qps_ratio.py` times the same query)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import apsw

from snippets.mysql_journey import _query
from snippets.report import Claim, publish, table

N, PHASES = 200, 3  # phase 1 warms up (opens, prepares); phases 2 and 3 must agree
ROWS = 1000  # rows in the table
ENGINES = {"sqlite3": f"stdlib sqlite3, SQLite {sqlite3.sqlite_version}",
           "apsw": f"apsw, SQLite {apsw.sqlite_lib_version()}"}


@dataclass
class Count:
    step: list[int]  # instructions inside sqlite3_step, per warm phase of N queries
    total: list[int]  # instructions of the whole process, per warm phase


def make_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INT, c TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?)",
                       [(i, i * 7 % ROWS, "x" * 100) for i in range(1, ROWS + 1)])


def callgrind(folder: Path, db: Path) -> dict[str, Count]:
    """Both engines in one callgrind run, one profile dump per phase."""
    site = str(Path(apsw.__file__).parents[1])
    subprocess.run(
        ["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={folder / 'cg'}",
         "--dump-before=getppid", sys.executable, "-S", "-E", _query.__file__,
         str(db), str(N), str(PHASES), site, *ENGINES], stdout=subprocess.DEVNULL,
        check=True, timeout=600)
    number = r"([\d,]+) \(\s*[\d.]+%\)\s+"
    counts = {}
    for first, e in enumerate(ENGINES):
        step, total = [], []
        for phase in range(first * PHASES + 2, (first + 1) * PHASES + 1):
            text = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                                   f"{folder / 'cg'}.{phase}"], capture_output=True,
                                  text=True, timeout=120, check=True).stdout
            total.append(int(re.search(number + "PROGRAM TOTALS", text)[1]
                             .replace(",", "")))
            step.append(int(re.search(number + r"\S*sqlite3_step\b", text)[1]
                            .replace(",", "")))
        counts[e] = Count(step, total)
    return counts


def measure() -> dict[str, Count]:
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp), Path(tmp) / "points.db"
        make_db(db)
        return callgrind(folder, db)


def claims(counts: dict[str, Count]) -> list[Claim]:
    old, new = counts["sqlite3"], counts["apsw"]
    per = {e: c.step[0] / N for e, c in counts.items()}
    share = max(c.step[0] / c.total[0] for c in counts.values())
    return [
        Claim("callgrind's count inside SQLite is identical in repeated phases",
              "; ".join(f"{e}: {c.step}" for e, c in counts.items()),
              all(len(set(c.step)) == 1 for c in counts.values())),
        Claim(f"SQLite {apsw.sqlite_lib_version()} runs this point query in fewer "
              f"than 0.9x the instructions of {sqlite3.sqlite_version}",
              f"{per['apsw']:,.0f} vs {per['sqlite3']:,.0f} per query "
              f"({per['apsw'] / per['sqlite3']:.2f}x)",
              new.step[0] < 0.9 * old.step[0]),
        Claim("SQLite's part is less than half of what a query costs from Python",
              f"at most {share:.0%}", share < 0.5),
    ]


def main() -> None:
    tools = [t for t in ("valgrind", "callgrind_annotate") if not shutil.which(t)]
    if tools:
        reason = f"{' and '.join(tools)} not installed (apt-get install valgrind)"
        print(f"not checked here: {reason}")
        publish([Claim.not_checked("instructions per query, counted", reason)])
        return
    counts = measure()
    print(f"the same point query, {N:,} times per phase, phases 2 and 3")
    print(table(["build", "in sqlite3_step / query", "whole process / query"],
                [[ENGINES[e], " = ".join(f"{s / N:,.0f}" for s in c.step),
                  " ~ ".join(f"{t / N:,.0f}" for t in c.total)]
                 for e, c in counts.items()]))
    publish(claims(counts))


if __name__ == "__main__":
    main()
