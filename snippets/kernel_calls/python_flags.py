"""Most of Python's start-up calls come from `import site`: -S skips it, -I doesn't."""

from __future__ import annotations

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table

FLAGS = [(), ("-I",), ("-S",), ("-I", "-S")]


def measure(method: str | None = None) -> list[experiment.Row]:
    with experiment.workdir() as folder:
        return [experiment.trace(experiment.python(*flags), folder, method)
                for flags in FLAGS]


def claims(rows: list[experiment.Row]) -> list[Claim]:
    total = {r.program.label: r.trace.total for r in rows if r.trace}
    opened = {r.program.label: r.trace.counts["openat"] for r in rows if r.trace}
    out = [Claim("every variant prints data.txt unchanged",
                 f"{sum(r.prints_file for r in rows)} of {len(rows)}",
                 all(r.prints_file for r in rows))]
    if {"python3", "python3 -S"} <= set(total):
        out += [Claim("-S (no import site) makes fewer calls and opens fewer files",
                      f"{total['python3 -S']} vs {total['python3']} calls, "
                      f"{opened['python3 -S']} vs {opened['python3']} opens",
                      total["python3 -S"] < total["python3"]
                      and opened["python3 -S"] < opened["python3"])]
    if "python3 -I -S" in total:
        out += [Claim("even python3 -I -S makes more than 100 calls",
                      str(total["python3 -I -S"]), total["python3 -I -S"] > 100)]
    return out + experiment.unmeasured_claims(rows)


def main() -> None:
    rows = measure()
    cells = [[r.program.command, r.trace.total, r.trace.counts["openat"],
              r.trace.counts["newfstatat"], r.trace.distinct] for r in rows if r.trace]
    if cells:
        print(table(["command", "syscalls", "openat", "newfstatat", "distinct"], cells))
    for line in experiment.not_measured(rows):
        print(line)
    publish(claims(rows))


if __name__ == "__main__":
    main()
