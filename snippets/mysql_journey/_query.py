"""The same point query on one SQLite build, in phases: what callgrind counts.

Run by `instructions.py` under valgrind as a plain script (python -S, no site):
`_query.py DB N PHASES SITE_PACKAGES ENGINE...`, one process for both engines (valgrind
costs seconds to start). After each phase it calls getppid(), which nothing else here
calls, so `--dump-before=getppid` cuts one profile per phase, engine after engine.
"""

import importlib
import os
import sys

QUERY = "SELECT c FROM t WHERE id = ?"


def connect(engine: str, path: str, load=importlib.import_module):
    """A read-only connection (close it when done): stdlib sqlite3, or apsw's newer
    SQLite.

    `load` imports apsw: the demos pass `report.need`, which says what to install
    where it is missing (this script, run by path, cannot import the project)."""
    if engine == "apsw":
        apsw = load("apsw")
        return apsw.Connection(path, flags=apsw.SQLITE_OPEN_READONLY)
    import sqlite3
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def run(execute, n: int, rows: int = 1000) -> int:
    """n point queries through one cached statement; rows returned."""
    return sum(len(execute(QUERY, (i % rows + 1,)).fetchall()) for i in range(n))


if __name__ == "__main__":
    path, n, phases, site, *engines = sys.argv[1:]
    sys.path.append(site)
    for engine in engines:
        db = connect(engine, path)
        for _ in range(int(phases)):
            found = run(db.execute, int(n))
            os.getppid()  # the phase mark
        db.close()
        print(engine, found)
