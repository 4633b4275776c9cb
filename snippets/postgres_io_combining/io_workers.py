"""With io_method = worker, PostgreSQL 18 makes the same combined reads of a cold
table, but in its io worker processes: the backend itself reads nothing."""

from __future__ import annotations

from snippets import report
from snippets.pg_server import Server
from snippets.postgres_io_combining import _scan as scan
from snippets.report import check, equals, finding

QUERY = "SELECT count(*) FROM t"
METHODS = ("sync", "worker")  # io_uring needs a build with liburing
READS = sorted(size // scan.KIB for size in scan.ramp(scan.PAGES, 16))

DEFAULT = finding("default-io-method", "PostgreSQL 18's default io_method is {bound}",
                  equals("worker"))
METHODS_HERE = finding("io-methods-here", "the io_method values this PostgreSQL 18 "
                       "build accepts: {bound} (no io_uring)", equals(list(METHODS)))
SAME = {m: finding(f"{m}-reads", f"with io_method = {m}, the cold scan's reads, "
                   "sorted by size: {bound}", equals(READS), unit="KiB")
        for m in METHODS}
SYNC = finding("sync-backend-reads", "with io_method = sync, the backend makes {bound} "
               "of the reads itself", equals(100), unit="%", fmt=".0f")
WORKER = finding("worker-reads-in-workers", "with io_method = worker, io worker "
                 "processes make {bound} of the reads, the backend none",
                 equals(100), unit="%", fmt=".0f")
ANSWER = check("same-answer", "both methods return the same count: {bound}",
               equals([str(scan.ROWS)]))


def measure() -> dict:
    with Server(18, io_method="sync") as pg:
        relfile, pages = scan.create_table(pg)
        default, accepted = pg.sql("SELECT boot_val, enumvals FROM pg_settings "
                                   "WHERE name = 'io_method'")[0].split("|")
        version = pg.server_version()
        runs = {m: scan.cold_reads(pg, relfile, QUERY, m, io_method=m,
                                   io_combine_limit=16) for m in METHODS}
    return {"version": version, "pages": pages, "runs": runs,
            "default": default, "accepted": accepted.strip("{}").split(",")}


def share(reads: scan.Reads, who: str) -> float:
    """The percentage of the reads this kind of process made."""
    return 100 * reads.by(who) / max(len(reads.calls), 1)


def claims(r: dict) -> list[report.Claim]:
    sync, worker = r["runs"]["sync"], r["runs"]["worker"]
    return [DEFAULT.of(r["default"]), METHODS_HERE.of(sorted(r["accepted"])),
            *(SAME[m].of(sorted(r["runs"][m].kib)) for m in METHODS),
            SYNC.of(share(sync, "backend")),
            WORKER.of(share(worker, "io worker"),
                      detail=f"backend {worker.by('backend')} reads"),
            ANSWER.of(sorted({sync.answer, worker.answer}))]


def main() -> None:
    try:
        r = measure()
    except report.NotMeasurable as why:
        every = [DEFAULT, METHODS_HERE, *SAME.values(), SYNC, WORKER, ANSWER]
        return report.publish_unmeasured(every, why)
    print(f"server: {r['version']} - table: {r['pages']} pages, "
          "io_combine_limit 16\n")
    rows = [[m, len(run.calls), run.total // scan.KIB, run.by("backend"),
             run.by("io worker"), scan.sizes_text(sorted(run.sizes))]
            for m, run in r["runs"].items()]
    print(report.table(["io_method", "calls", "KiB", "by backend", "by io workers",
                        "sizes (sorted)"], rows))
    report.publish(claims(r))


if __name__ == "__main__":
    main()
