"""Static or dynamic, C reads the file the same way; they differ only before main()."""

from __future__ import annotations

from pathlib import Path

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table


def measure(method: str | None = None) -> dict[str, experiment.Row]:
    """Build read.c both ways in a fresh folder and trace both."""
    with experiment.workdir() as folder:
        builds = [experiment.c(folder, static=s) for s in (True, False)]
        return {p.label: experiment.trace(p, folder, method) for p in builds}


def extra_files(by: dict) -> list[str]:
    """The files C dynamic opens that C static doesn't: the dynamic loader's."""
    static = {Path(p).name for p in by["C static"].opened}
    return [Path(p).name for p in by["C dynamic"].opened
            if Path(p).name not in static]


def claims(rows: dict[str, experiment.Row]) -> list[Claim]:
    if not all(r.trace for r in rows.values()):
        return experiment.unmeasured_claims(list(rows.values()), "static vs dynamic")
    by = {label: row.trace for label, row in rows.items()}
    extra = extra_files(by)
    return [Claim("both builds make the same calls on data.txt",
                  " | ".join(" ".join(t.file_calls) for t in by.values()),
                  by["C static"].file_calls == by["C dynamic"].file_calls),
            Claim("C dynamic opens only the loader's files more: ld.so.cache, libc",
                  ", ".join(extra), "ld.so.cache" in extra
                  and any(n.startswith("libc.so") for n in extra)
                  and all(n == "ld.so.cache" or ".so" in n for n in extra)),
            Claim("C static makes start-up calls of its own, not only fewer",
                  " ".join(sorted(by["C static"].counts - by["C dynamic"].counts)),
                  bool(by["C static"].counts - by["C dynamic"].counts))]


def main() -> None:
    rows = measure()
    by = {label: row.trace for label, row in rows.items() if row.trace}
    if len(by) == 2:
        a, b = by["C static"].counts, by["C dynamic"].counts
        print(table(["", "calls"], [
            ["C dynamic, not static", " ".join(f"{k} {n}" for k, n in (b - a).items())],
            ["C static, not dynamic", " ".join(f"{k} {n}" for k, n in (a - b).items())],
            ["files only C dynamic opens", ", ".join(extra_files(by))]]))
    for line in experiment.not_measured(list(rows.values())):
        print(line)
    publish(claims(rows))


if __name__ == "__main__":
    main()
