"""The release check 8.0.38 needed: create many tables, restart, read every table."""

from __future__ import annotations

import time
from dataclasses import dataclass

from snippets.mysql_journey import _mariadb
from snippets.report import Claim, publish, table

TABLES = 400  # MySQL's bug needed 8,001+; scaled to the time budget of a page build


@dataclass
class Restart:
    tables: int
    files_before: int  # one .ibd file per table (innodb_file_per_table)
    shutdown_status: int | None  # 0: a clean shutdown
    listed_after: int  # tables the restarted server knows
    rows_after: int  # rows read back, one per table
    checksum_after: int  # sum of the values read back
    restart_seconds: float


def create_tables(db: _mariadb.Server, count: int) -> None:
    sql = ["CREATE DATABASE many; USE many;"]
    for i in range(1, count + 1):
        sql.append(f"CREATE TABLE t{i} (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;"
                   f"INSERT INTO t{i} VALUES (1, {i});")
    db.sql("\n".join(sql))


def read_all(db: _mariadb.Server, count: int) -> tuple[int, int]:
    union = " UNION ALL ".join(f"SELECT v FROM many.t{i}" for i in range(1, count + 1))
    rows, total = db.sql(f"SELECT COUNT(*), SUM(v) FROM ({union}) AS every").split()
    return int(rows), int(total)


def measure(tables: int = TABLES) -> Restart:
    with _mariadb.Server("--innodb-flush-log-at-trx-commit=2") as db:
        create_tables(db, tables)
        files = len(list((db.dir / "data" / "many").glob("*.ibd")))
        start = time.perf_counter()
        status = db.restart()
        seconds = time.perf_counter() - start
        listed = int(db.sql("SELECT COUNT(*) FROM information_schema.tables "
                            "WHERE table_schema = 'many'"))
        rows, total = read_all(db, tables)
    return Restart(tables, files, status, listed, rows, total, seconds)


def claims(r: Restart) -> list[Claim]:
    n = r.tables
    return [
        Claim(f"{n} tables were created, each in its own file", f"{r.files_before} "
              ".ibd files", r.files_before == n),
        Claim("the server shut down cleanly and came back", f"exit status "
              f"{r.shutdown_status}, restarted in {r.restart_seconds:.1f} s",
              r.shutdown_status == 0),
        Claim("after the restart it lists every table", f"{r.listed_after} of {n}",
              r.listed_after == n),
        Claim("and every table is readable, with the value written", f"{r.rows_after}"
              f" rows, sum {r.checksum_after:,} (expected {n * (n + 1) // 2:,})",
              r.rows_after == n and r.checksum_after == n * (n + 1) // 2),
    ]


def main() -> None:
    if reason := _mariadb.missing():
        print(f"not checked here: {reason}")
        publish([Claim.not_checked("a restart with many tables", reason)])
        return
    r = measure()
    print(f"MariaDB 10.11 (a MySQL fork): {r.tables} InnoDB tables, then a restart")
    print(table(["step", "result"], [
        ["files before restart", f"{r.files_before} .ibd"],
        ["shutdown exit status", r.shutdown_status],
        ["tables listed after", r.listed_after],
        ["rows read after", r.rows_after],
        ["sum of values", f"{r.checksum_after:,}"]]))
    publish(claims(r))


if __name__ == "__main__":
    main()
