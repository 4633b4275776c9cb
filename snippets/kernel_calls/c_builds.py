"""Static or dynamic, C reads the file the same way; they differ only before main()."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from snippets.kernel_calls import _experiment as experiment
from snippets.report import (
    Claim,
    NotMeasurable,
    above,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.syscalls import Trace

LOADER = finding("dynamic-extra-files", "the files C dynamic opens that C static "
                 "doesn't (the dynamic loader's): {bound}",
                 equals(("ld.so.cache", "libc.so.6")))
OWN = finding("static-own-calls", "calls C static makes that C dynamic doesn't (its "
              "own start-up code): {bound}", above(0), unit="calls")
FEWER = finding("static-fewer-calls", "how many fewer calls C static makes than C "
                "dynamic: {bound}", above(0), unit="calls")


@dataclass
class Builds:
    static: Trace
    dynamic: Trace

    @property
    def only_dynamic(self) -> Counter:
        return self.dynamic.counts - self.static.counts

    @property
    def only_static(self) -> Counter:
        return self.static.counts - self.dynamic.counts

    def extra_files(self) -> tuple[str, ...]:
        """The files C dynamic opens that C static doesn't: the dynamic loader's."""
        static = {Path(p).name for p in self.static.opened}
        return tuple(Path(p).name for p in self.dynamic.opened
                     if Path(p).name not in static)


def measure(method: str | None = None) -> Builds:
    """Build read.c both ways in a fresh folder and trace both."""
    with experiment.workdir() as folder:
        rows = [experiment.trace(experiment.c(folder, static=s), folder, method)
                for s in (True, False)]
    for row in rows:
        if row.trace is None:
            raise row.why
    return Builds(rows[0].trace, rows[1].trace)


def claims(b: Builds) -> list[Claim]:
    calls = " ".join(f"{k} {n}" for k, n in b.only_static.items())
    return [LOADER.of(b.extra_files()),
            OWN.of(b.only_static.total(), detail=calls),
            FEWER.of(b.dynamic.total - b.static.total,
                     detail=f"{b.static.total} vs {b.dynamic.total}")]


def main() -> None:
    try:
        b = measure()
    except NotMeasurable as why:
        return publish_unmeasured([LOADER, OWN, FEWER], why)
    print(table(["", "calls"], [
        ["C dynamic, not static", " ".join(f"{k} {n}" for k, n in
                                           b.only_dynamic.items())],
        ["C static, not dynamic", " ".join(f"{k} {n}" for k, n in
                                           b.only_static.items())],
        ["files only C dynamic opens", ", ".join(b.extra_files())]]))
    publish(claims(b))


if __name__ == "__main__":
    main()
