"""To print a small file, C makes tens of system calls; every runtime, hundreds."""

from __future__ import annotations

from snippets.kernel_calls import _experiment as experiment
from snippets.report import (
    Claim,
    Expectation,
    above,
    at_least,
    below,
    check,
    equals,
    finding,
    publish,
    table,
)
from snippets.syscalls import counter_name


def total(name: str, bound) -> Expectation:
    return finding(f"{name.lower().replace(' ', '-').rstrip('3')}-total",
                   name + " makes {bound} in all", bound, unit="calls")


TOTAL = {"C static": total("C static", below(100)),
         "C dynamic": total("C dynamic", below(100)),
         **{name: total(name, above(100)) for name in ("python3", "node", "bun")}}
THREADS = {name: finding(f"{name}-threads", f"threads {name} starts besides its "
                         "main one: {bound}", at_least(1)) for name in ("node", "bun")}
PRINTS = check("count-prints-data", "traced programs whose output is not data.txt, "
               "byte for byte: {bound}", equals(0))


def claims(rows: list[experiment.Row]) -> list[Claim]:
    traced = [r.trace for r in rows if r.trace]
    wrong = sum(not experiment.prints_data(t) for t in traced)
    return experiment.grouped([
        *experiment.per_program(TOTAL, rows, lambda t: t.total),
        *experiment.per_program(THREADS, rows, lambda t: t.threads),
        PRINTS.of(wrong, detail=f"{len(traced)} traced") if traced
        else PRINTS.not_checked(rows[0].why)])


def main() -> None:
    rows = experiment.measure()
    def numbers(t) -> list:
        return [t.total, t.distinct, t.threads, len(t.file_calls)]
    print(table(["program", "syscalls", "distinct", "threads started",
                 "calls on data.txt"], [experiment.cells(r, 4, numbers) for r in rows]))
    print()
    print(table(["program", "command", "version", "from"],
                [[r.program.label, r.program.command, r.program.version or "-",
                  r.program.source or "-"] for r in rows]))
    counters = sorted({r.trace.method for r in rows if r.trace})
    print("counted with:", ", ".join(map(counter_name, counters)) or "nothing")
    publish(claims(rows))


if __name__ == "__main__":
    main()
