"""With io_method = worker, PostgreSQL 18 makes the same combined reads of a cold
table, but in its io worker processes: the backend itself reads nothing."""

from __future__ import annotations

from snippets import report
from snippets.pg_server import NotAvailable, Server, version
from snippets.postgres_io_combining import _scan as scan

QUERY = "SELECT count(*) FROM t"
METHODS = ("sync", "worker")  # this wheel is built without liburing: no io_uring


def measure() -> dict:
    with Server(18, io_method="sync") as pg:
        relfile, pages = scan.create_table(pg)
        default = pg.sql("SELECT boot_val FROM pg_settings WHERE name = 'io_method'")
        runs = {m: scan.cold_reads(pg, relfile, QUERY, m, io_method=m,
                              io_combine_limit=16) for m in METHODS}
    return {"version": version(18), "pages": pages, "runs": runs,
            "default": default[0]}


def claims(r: dict) -> list[report.Claim]:
    sync, worker = r["runs"]["sync"], r["runs"]["worker"]
    C = report.Claim
    return [
        C("io_method = worker is this build's default", r["default"],
          r["default"] == "worker"),
        C("both methods make the same reads (same number, same sizes)",
          f"sync {scan.sizes_text(sorted(sync.sizes))}; "
          f"worker {scan.sizes_text(sorted(worker.sizes))}",
          sorted(sync.sizes) == sorted(worker.sizes)),
        C("sync: the backend makes every read", f"{sync.by('backend')} of "
          f"{len(sync.calls)}", sync.by("backend") == len(sync.calls) > 0),
        C("worker: io workers make every read, the backend none",
          f"io workers {worker.by('io worker')}, backend {worker.by('backend')}",
          worker.by("io worker") == len(worker.calls) > 0
          and worker.by("backend") == 0),
        C("both return the same answer", f"{sync.answer} and {worker.answer}",
          sync.answer == worker.answer),
    ]


def main() -> None:
    try:
        r = measure()
    except NotAvailable as why:
        return scan.not_measured(__doc__, why)
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
