"""Python's start-up calls: `import site` (-S skips it), and -I ignores PYTHONPATH."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from snippets.kernel_calls import _experiment as experiment
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    at_least,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.syscalls import Trace

FLAGS = [(), ("-I",), ("-S",), ("-I", "-S")]
FROZEN = ("os", "site", "codecs")  # frozen since 3.11 (bpo-45020): no file to read
PLAIN, NO_SITE, BARE = "python3", "python3 -S", "python3 -I -S"
WITH_PATH, ISOLATED = "PYTHONPATH=lib python3", "PYTHONPATH=lib python3 -I"

PRINTS = check("flags-print-data", "variants whose output is not data.txt, byte for "
               "byte: {bound}", equals(0))
FROZEN_READ = finding("frozen-not-read", "files of os, site or codecs read by any "
                      "variant (they are frozen): {bound}", equals(0))
ENCODINGS = finding("no-site-reads-encodings", "where the modules python3 -S and "
                    "python3 -I -S read from disk come from: {bound}",
                    equals(("encodings",)))
SITE_PACKAGES = finding("site-opens-site-packages", "times python3's import site "
                        "opens a site-packages folder: {bound}", at_least(1))
SITE_COST = finding("site-costs-calls", "calls python3 makes that python3 -S "
                    "doesn't: {bound}", above(0), unit="calls")
PATH_COST = finding("pythonpath-adds-calls", "calls a PYTHONPATH entry adds to "
                    "python3: {bound}", above(0), unit="calls")
PATH_IGNORED = finding("isolated-ignores-pythonpath", "times python3 -I opens the "
                       "PYTHONPATH folder: {bound}", equals(0))
BARE_TOTAL = finding("bare-python-total", "python3 -I -S makes {bound} in all",
                     above(100), unit="calls")
ALL = [PRINTS, FROZEN_READ, ENCODINGS, SITE_PACKAGES, SITE_COST, PATH_COST,
       PATH_IGNORED, BARE_TOTAL]


def with_path(program: experiment.Program) -> experiment.Program:
    return dataclasses.replace(program, label=f"PYTHONPATH=lib {program.label}",
                               command=f"PYTHONPATH=lib {program.command}")


def measure(method: str | None = None) -> dict[str, Trace]:
    """The same interpreter traced six ways: {label: trace}."""
    with experiment.workdir() as folder:
        (folder / "lib").mkdir()  # an empty folder: every import looks in it first
        rows = [experiment.trace(experiment.python(*f), folder, method) for f in FLAGS]
        rows += [experiment.trace(with_path(experiment.python(*f)), folder, method,
                                  {"PYTHONPATH": str(folder / "lib")})
                 for f in [(), ("-I",)]]
    for row in rows:
        if row.trace is None:
            raise row.why
    return {row.program.label: row.trace for row in rows}


def modules(trace: Trace) -> list[str]:
    """The Python modules read from disk (not the script itself)."""
    return [p for p in trace.opened if p.endswith((".py", ".pyc"))
            and Path(p).name != "read.py"]


def opens(trace: Trace, *names: str) -> int:
    return sum(Path(p).name in names for p in trace.opened)


def claims(by: dict[str, Trace]) -> list[Claim]:
    read = {Path(m).name.split(".")[0] for t in by.values() for m in modules(t)}
    no_site = [m for label in (NO_SITE, BARE) for m in modules(by[label])]
    source = {"encodings" if "encodings" in Path(m).parts else Path(m).name
              for m in no_site}
    total = {label: t.total for label, t in by.items()}
    return [PRINTS.of(sum(not experiment.prints_data(t) for t in by.values())),
            FROZEN_READ.of(len(read & set(FROZEN)),
                           detail=f"{len(read)} module names read"),
            ENCODINGS.of(tuple(sorted(source)),
                         detail=f"{len(no_site)} files"),
            SITE_PACKAGES.of(opens(by[PLAIN], "site-packages", "dist-packages")),
            SITE_COST.of(total[PLAIN] - total[NO_SITE],
                         detail=f"{total[PLAIN]} vs {total[NO_SITE]}"),
            PATH_COST.of(total[WITH_PATH] - total[PLAIN],
                         detail=f"opens lib {opens(by[WITH_PATH], 'lib')}x"),
            PATH_IGNORED.of(opens(by[ISOLATED], "lib"),
                            detail=f"{total[ISOLATED]} calls"),
            BARE_TOTAL.of(total[BARE])]


def main() -> None:
    try:
        by = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    print(table(["command", "syscalls", "openat", "modules read", ".pth files"],
                [[label, t.total, t.counts["openat"], len(modules(t)),
                  sum(p.endswith(".pth") for p in t.opened)]
                 for label, t in by.items()]))
    publish(claims(by))


if __name__ == "__main__":
    main()
