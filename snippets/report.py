"""What every snippet shares: claims it checks, an aligned table, and publishing both.

A snippet's ``main()`` prints a table, then calls ``publish(claims)``. Run by hand,
that prints one line per claim and exits 1 if any claim failed. Run by the site
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


@dataclass(frozen=True)
class Claim:
    """One checkable sentence, the evidence measured for it, and whether it held."""

    statement: str
    evidence: str
    held: bool


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
    """The claims that did not hold (tests assert this is empty)."""
    return [c for c in claims if not c.held]


def explain(claims: list[Claim]) -> str:
    """One line per claim, for a test failure message or a terminal."""
    return "\n".join(
        f"{'held' if c.held else 'NOT HELD'}: {c.statement} ({c.evidence})"
        for c in claims
    )


def publish(claims: list[Claim], figures: dict[str, str] | None = None) -> None:
    """Print the claims; hand claims and SVG figures to the site build if it asked.

    Exits with status 1 when a claim does not hold, so a broken claim fails both
    a reader's run and the build.
    """
    print()
    print(explain(claims))
    out = os.environ.get(OUTPUT_DIR_ENV)
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, svg in (figures or {}).items():
            (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        data = [asdict(c) for c in claims]
        (folder / "claims.json").write_text(json.dumps(data), encoding="utf-8")
    if failed(claims):
        print("claim not held:\n" + explain(failed(claims)), file=sys.stderr)
        raise SystemExit(1)
