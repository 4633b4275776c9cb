"""What every snippet shares: claims it checks, an aligned table, and publishing both.

A claim has one of three verdicts:

* **held**: measured here, and true;
* **not held**: measured here, and false: the snippet exits 1, the build stops and
  the test fails;
* **not checked here**: it could not be measured on this machine (the machine was
  busy after re-measuring, a tool is missing, the host forbids namespaces or ptrace,
  this Python behaves otherwise), with the reason. The build goes on with a warning
  and the test skips with the same reason. Never *held* without a measurement.

A snippet's ``main()`` prints a table, then calls ``publish(claims)``. Run by hand,
that prints one line per claim and exits 1 if any claim did not hold. Run by the site
build (``SNIPPET_OUTPUT_DIR`` set), it also writes the claims and any figures there
so the page can show a "Verified at build" table and the plots.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

OUTPUT_DIR_ENV = "SNIPPET_OUTPUT_DIR"
HELD, NOT_HELD, NOT_CHECKED = "held", "not held", "not checked here"


@dataclass(frozen=True)
class Claim:
    """One checkable sentence, the evidence measured for it, and its verdict.

    ``held`` is True or False when measured; None means *not checked here*, and then
    ``reason`` says why. ``timing`` marks a claim about how long things take, which
    ``measure.check_timing`` may re-measure when the machine was busy.
    """

    statement: str
    evidence: str
    held: bool | None
    reason: str = ""
    timing: bool = False

    @classmethod
    def not_checked(cls, statement: str, reason: str, evidence: str = "-") -> Claim:
        """A claim this machine cannot check, and why (a tool, the host, Python)."""
        return cls(statement, evidence, None, reason)

    @property
    def verdict(self) -> str:
        return {True: HELD, False: NOT_HELD, None: NOT_CHECKED}[self.held]


def table(headers: list[str], rows: list[list[object]]) -> str:
    """Format rows as a plain aligned table: text left, numbers right."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        all(_is_number(row[i]) for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(row: list[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _is_number(value: object) -> bool:
    text = str(value).replace(",", "").replace("%", "").rstrip("x×")
    try:
        float(text)
    except ValueError:
        return False
    return True


def failed(claims: list[Claim]) -> list[Claim]:
    """The claims measured here that did not hold (tests assert this is empty)."""
    return [c for c in claims if c.held is False]


def unchecked(claims: list[Claim]) -> list[Claim]:
    """The claims that could not be checked on this machine (each has a reason)."""
    return [c for c in claims if c.held is None]


def explain(claims: list[Claim]) -> str:
    """One line per claim, for a test failure message or a terminal."""
    lines = []
    for c in claims:
        label = {True: "held", False: "NOT HELD", None: "not checked here"}[c.held]
        why = f"; {c.reason}" if c.held is None and c.reason else ""
        lines.append(f"{label}: {c.statement} ({c.evidence}{why})")
    return "\n".join(lines)


def publish(claims: list[Claim], figures: dict[str, str] | None = None) -> None:
    """Print the claims; hand claims and SVG figures to the site build if it asked.

    Exits with status 1 when a claim does not hold, so a broken claim fails both
    a reader's run and the build. A claim not checked here does not fail.
    """
    print()
    print(explain(claims))
    out = os.environ.get(OUTPUT_DIR_ENV)
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, svg in (figures or {}).items():
            (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        data = [dict(asdict(c), verdict=c.verdict) for c in claims]
        (folder / "claims.json").write_text(json.dumps(data), encoding="utf-8")
    if failed(claims):
        print("claim not held:\n" + explain(failed(claims)), file=sys.stderr)
        raise SystemExit(1)
