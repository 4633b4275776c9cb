"""Python's start-up calls: `import site` (-S skips it), and -I ignores PYTHONPATH."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table

FLAGS = [(), ("-I",), ("-S",), ("-I", "-S")]
FROZEN = ("os", "site", "codecs")  # frozen since 3.11 (bpo-45020): no file to read


def with_path(program: experiment.Program) -> experiment.Program:
    return dataclasses.replace(program, label=f"PYTHONPATH=lib {program.label}",
                               command=f"PYTHONPATH=lib {program.command}")


def measure(method: str | None = None) -> list[experiment.Row]:
    with experiment.workdir() as folder:
        (folder / "lib").mkdir()  # an empty folder: every import looks in it first
        rows = [experiment.trace(experiment.python(*f), folder, method) for f in FLAGS]
        return rows + [experiment.trace(with_path(experiment.python(*f)), folder,
                                        method, {"PYTHONPATH": str(folder / "lib")})
                       for f in [(), ("-I",)]]


def modules(trace) -> list[str]:
    """The Python modules read from disk (not the script itself)."""
    return [p for p in trace.opened if p.endswith((".py", ".pyc"))
            and Path(p).name != "read.py"]


def claims(rows: list[experiment.Row]) -> list[Claim]:
    by = {r.program.label: r.trace for r in rows if r.trace}
    total = {label: t.total for label, t in by.items()}
    out = [Claim("every variant prints data.txt unchanged",
                 f"{sum(r.prints_file for r in rows)} of {len(rows)}",
                 all(r.prints_file for r in rows))]
    read = {Path(m).name.split(".")[0] for t in by.values() for m in modules(t)}
    if by:
        out.append(Claim("no file of os, site or codecs is read: they are frozen",
                         f"{len(read)} module names read, "
                         f"{', '.join(sorted(read & set(FROZEN))) or 'none'} of them",
                         not read & set(FROZEN)))
    for label in ("python3 -S", "python3 -I -S"):
        if label in by:
            got = {"encodings" if "encodings" in Path(m).parts else Path(m).name
                   for m in modules(by[label])}
            out.append(Claim(f"{label} reads the encodings package and nothing else",
                             f"{len(modules(by[label]))} files from "
                             f"{', '.join(sorted(got))}", got == {"encodings"}))
    if {"python3", "python3 -S"} <= set(by):
        sites = [any(p.endswith(("site-packages", "dist-packages"))  # Debian's
                     for p in by[k].opened)
                 for k in ("python3", "python3 -S")]
        out.append(Claim("import site opens site-packages; with -S nothing does",
                         f"python3 {sites[0]}, python3 -S {sites[1]}",
                         sites == [True, False]))
        out.append(Claim("-S makes fewer calls", f"{total['python3 -S']} vs "
                         f"{total['python3']}", total["python3 -S"] < total["python3"]))
    if {"python3", "python3 -I", "PYTHONPATH=lib python3",
            "PYTHONPATH=lib python3 -I"} <= set(total):
        plain = [total["python3"], total["PYTHONPATH=lib python3"]]
        isolated = [total["python3 -I"], total["PYTHONPATH=lib python3 -I"]]
        looked = [sum(Path(p).name == "lib" for p in by[k].opened)  # its listing
                  for k in ("PYTHONPATH=lib python3", "PYTHONPATH=lib python3 -I")]
        out.append(Claim("a PYTHONPATH entry adds calls to python3, which opens it; "
                         "-I never opens it",
                         f"python3 {plain[0]} -> {plain[1]} calls, opens lib "
                         f"{looked[0]}x; -I {isolated[0]} -> {isolated[1]}, opens lib "
                         f"{looked[1]}x", plain[1] > plain[0] and looked[0] > 0
                         and looked[1] == 0))
    if "python3 -I -S" in total:
        out.append(Claim("even python3 -I -S makes more than 100 calls",
                         str(total["python3 -I -S"]), total["python3 -I -S"] > 100))
    return out + experiment.unmeasured_claims(rows, "start-up calls")


def main() -> None:
    rows = measure()
    cells = [[r.program.command.removesuffix(" read.py data.txt"), r.trace.total,
              r.trace.counts["openat"], len(modules(r.trace)),
              sum(p.endswith(".pth") for p in r.trace.opened)] for r in rows if r.trace]
    if cells:
        print(table(["command", "syscalls", "openat", "modules read",
                     ".pth files"], cells))
    for line in experiment.not_measured(rows):
        print(line)
    publish(claims(rows))


if __name__ == "__main__":
    main()
