"""To print a small file, C makes tens of system calls; every runtime, hundreds."""

from __future__ import annotations

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table
from snippets.svg import bar_chart
from snippets.syscalls import counter_name


def claims(rows: list[experiment.Row]) -> list[Claim]:
    done = [r for r in rows if r.trace]
    c = [r for r in done if experiment.is_c(r)]
    runtimes = [r for r in done if not experiment.is_c(r)]
    threaded = [r for r in runtimes if r.program.label in ("node", "bun")]
    out = [Claim("every program that runs here prints data.txt unchanged",
                 ", ".join(r.program.label for r in rows if r.prints_file),
                 all(r.prints_file for r in rows if r.program.argv))]
    if c and runtimes:
        most_c = max(r.trace.total for r in c)
        fewest = min(r.trace.total for r in runtimes)
        out.append(Claim("C < 100 < every runtime (system calls in total)",
                         f"C at most {most_c}, runtimes at least {fewest}",
                         most_c < 100 < fewest))
    if c:
        out.append(Claim("the C programs start no thread",
                         ", ".join(f"{r.program.label} {r.trace.threads}" for r in c),
                         all(r.trace.threads == 0 for r in c)))
    if threaded:
        out.append(Claim("node and bun start extra threads",
                         ", ".join(f"{r.program.label} {r.trace.threads}"
                                   for r in threaded),
                         all(r.trace.threads >= 1 for r in threaded)))
    return out + experiment.unmeasured_claims(rows, "system calls counted")


def main() -> None:
    rows = experiment.measure()
    cells = [[r.program.label, *([r.trace.total, r.trace.distinct, r.trace.threads,
                                  len(r.trace.file_calls)] if r.trace else ["-"] * 4)]
             for r in rows]
    print(table(["program", "syscalls", "distinct", "threads started",
                 "calls on data.txt"], cells))
    for line in experiment.not_measured(rows):
        print(line)
    print()
    print(table(["program", "command", "version", "from"],
                [[r.program.label, r.program.command, r.program.version or "-",
                  r.program.source or "-"] for r in rows]))
    counters = sorted({r.trace.method for r in rows if r.trace})
    print("counted with:", ", ".join(map(counter_name, counters)) or "nothing")
    bars = [(r.program.label, r.trace.total) for r in rows if r.trace]
    figures = {"kernel-calls-totals": bar_chart(
        "System calls to read and print a 1,200-byte file", "system calls",
        bars, log=True)} if bars else {}
    publish(claims(rows), figures=figures)


if __name__ == "__main__":
    main()
