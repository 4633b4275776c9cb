"""C opens, reads once and closes; Python's open().read() asks about the file first."""

from __future__ import annotations

from collections import Counter

from snippets.kernel_calls import _experiment as experiment
from snippets.report import Claim, publish, table

STATS = {"fstat", "newfstatat", "statx"}


def python_extras(calls: list[str]) -> list[str]:
    """What Python's path has that a plain C read() lacks."""
    seen = Counter(calls)
    extras = [name for name in ("ioctl(TCGETS)", "lseek") if seen[name]]
    extras += ["a stat"] if STATS & set(seen) else []
    return extras + (["a second read"] if seen["read"] >= 2 else [])


def claims(rows: list[experiment.Row]) -> list[Claim]:
    done = {r.program.label: r.trace.file_calls for r in rows if r.trace}
    out = [Claim("every traced program opens data.txt once and closes it once",
                 ", ".join(f"{k} {v.count('close')}" for k, v in done.items()),
                 all(v[:1] == ["openat"] and v.count("close") == 1
                     for v in done.values()))] if done else []
    for row in rows:
        if row.trace and experiment.is_c(row):
            calls = row.trace.file_calls
            out.append(Claim(f"{row.program.label}: openat, read, close and nothing "
                             "else", " ".join(calls),
                             calls == ["openat", "read", "close"]))
    if "python3" in done:
        extras = python_extras(done["python3"])
        out.append(Claim("Python adds ioctl(TCGETS), lseek, a stat and a second "
                         "read", ", ".join(extras) or "none", len(extras) == 4))
    return out + experiment.unmeasured_claims(rows)


def main() -> None:
    rows = experiment.measure()
    cells = [[r.program.label, len(r.trace.file_calls), " ".join(r.trace.file_calls)]
             for r in rows if r.trace]
    if cells:
        print(table(["program", "calls", "the calls on data.txt, in order"], cells))
    for line in experiment.not_measured(rows):
        print(line)
    publish(claims(rows))


if __name__ == "__main__":
    main()
