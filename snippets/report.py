"""What every snippet shares: the claims it checks, an aligned table, publishing both.

The site's one vocabulary, defined here and nowhere else:

* A **claim** is built from what was measured and one bound (`above`, `below`,
  `at_least`, `at_most`, `between`, `equals`, `one_of`, `descending`, `ascending`);
  its verdict is computed from them, never handed in. It has a stable id, unique in
  its episode, that page prose cites.
* Its **kind**: a *finding* states something about the systems a page explains that
  could come out otherwise on another kernel, version, Python or machine; a *check*
  only confirms the demo did what it says. Both fail the build when they fail; only
  findings are counted as findings.
* Its **verdict**: *held*, *not held* (the snippet exits 1, the build stops, the test
  fails) or *not checked here*, with the reason (a busy machine after re-measuring, a
  missing tool or package, a host that forbids it). Never *held* unmeasured.
* **NotMeasurable** is what code raises when this machine cannot measure something;
  `publish_unmeasured` turns it into *not checked here* for every claim it stops.

A snippet declares its claims once, at module level (`finding(...)`, `check(...)`:
the id, the statement, the bound), and turns them into verdicts with
`expectation.of(measured)`. Its `main()` prints a table, then `publish(claims)`. Run
by hand that prints one line per claim and exits 1 if one did not hold; run by the
site build (`SNIPPET_OUTPUT_DIR` set) it also writes the claims and any figures
there, which the build reads back with `read_claims`.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

OUTPUT_DIR_ENV = "SNIPPET_OUTPUT_DIR"
CLAIMS_FILE = "claims.json"
FINDING, CHECK = "finding", "check"
SETUP = "run `make setup` in the repository, then use its .venv/bin/python"
_ID = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


class Verdict(Enum):
    """The three verdicts: the word a page shows, and the label a printed line starts
    with (`held: ...`, `NOT HELD: ...`, `not checked here: ...`)."""

    HELD = "held", "held"
    NOT_HELD = "not held", "NOT HELD"
    NOT_CHECKED = "not checked here", "not checked here"

    def __init__(self, word: str, label: str) -> None:
        self.word, self.label = word, label

    @property
    def prefix(self) -> str:
        return f"{self.label}:"

    @classmethod
    def of_word(cls, word: str) -> Verdict:
        return next(v for v in cls if v.word == word)

    @classmethod
    def of_line(cls, line: str) -> Verdict | None:
        """The verdict a printed claim line starts with, if it is one."""
        return next((v for v in cls if line.startswith(v.prefix)), None)


# -- what cannot be measured here ------------------------------------------------------


class NotMeasurable(Exception):
    """This machine cannot measure it; the message is the reason a page shows."""

    @property
    def reason(self) -> str:
        return str(self)


class MissingTool(NotMeasurable):
    """A program or server the demo needs is not installed or not unpacked."""


class HostForbids(NotMeasurable):
    """The host refuses what the demo needs (namespaces, ptrace, a kernel feature)."""


class MissingPackage(NotMeasurable):
    """A Python package the demo needs is not importable by this Python."""

    def __init__(self, package: str) -> None:
        super().__init__(f"the Python package {package} is not installed for "
                         f"{Path(sys.executable).name}: {SETUP}")
        self.package = package


def need(module: str, package: str | None = None) -> Any:
    """Import a third-party module, or raise MissingPackage naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingPackage(package or module.split(".")[0]) from None


# -- bounds ------------------------------------------------------------------------


def number(value: Any, fmt: str = "") -> str:
    """A measured value as a reader reads it: 1,206 / 13.4 / 0.07 / a, b, c."""
    if isinstance(value, (list, tuple)):
        return ", ".join(number(v, fmt) for v in value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if fmt:
        return format(value, fmt)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("x", "%", "×") else f"{text} {unit}"


@dataclass(frozen=True)
class Bound:
    """What the measured value must be for the claim to hold."""

    op: str
    value: Any = None
    high: Any = None

    def holds(self, measured: Any) -> bool:
        op, v = self.op, self.value
        if op in ("descending", "ascending"):
            pairs = list(itertools.pairwise(measured))
            return bool(pairs) and all(a > b if op == "descending" else a < b
                                       for a, b in pairs)
        if op == "equals":
            return _plain(measured) == _plain(v)
        if op == "one of":
            return measured in v
        if op == "between":
            return v <= measured <= self.high
        return {"above": measured > v, "below": measured < v,
                "at least": measured >= v, "at most": measured <= v}[op]

    def words(self, unit: str = "", fmt: str = "") -> str:
        """The bound as a statement says it: "over 1.4x", "between 0.5 and 2".
        (`fmt` is the measured value's format: a bound is shown as written, except
        as a percentage when the value is.)"""
        fmt = fmt if fmt.endswith("%") else ""

        def show(x):
            return with_unit(number(x, fmt), unit)
        if self.op in ("descending", "ascending"):
            return f"in {'de' if self.op == 'descending' else 'in'}creasing order"
        if self.op == "between":
            return f"between {number(self.value, fmt)} and {show(self.high)}"
        if self.op == "one of":
            return "one of " + ", ".join(number(x, fmt) for x in self.value)
        if self.op == "equals":
            return f"exactly {show(self.value)}" if not isinstance(
                self.value, str) else self.value
        word = {"above": "over", "below": "under"}.get(self.op, self.op)
        return f"{word} {show(self.value)}"

    def margin(self, measured: Any) -> float | None:
        """How far inside (positive) or outside the bound, relative to it; None for
        exact bounds (equals, one of, an order), where there is no near miss."""
        if not isinstance(measured, (int, float)) or isinstance(measured, bool):
            return None
        if self.op == "between":
            return min(self.margin_of("at least", self.value, measured),
                       self.margin_of("at most", self.high, measured))
        if self.op in ("above", "below", "at least", "at most"):
            return self.margin_of(self.op, self.value, measured)
        return None

    @staticmethod
    def margin_of(op: str, limit: float, measured: float) -> float:
        scale = abs(limit) or 1.0
        gap = measured - limit if op in ("above", "at least") else limit - measured
        return gap / scale

    def to_json(self) -> dict:
        out = {"op": self.op}
        if self.value is not None:
            out["value"] = _plain(self.value)
        if self.high is not None:
            out["high"] = self.high
        return out


def _plain(value: Any) -> Any:
    """As JSON gives it back: tuples as lists, all the way down."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def above(x: float) -> Bound:
    return Bound("above", x)


def below(x: float) -> Bound:
    return Bound("below", x)


def at_least(x: float) -> Bound:
    return Bound("at least", x)


def at_most(x: float) -> Bound:
    return Bound("at most", x)


def between(low: float, high: float) -> Bound:
    return Bound("between", low, high)


def equals(x: Any) -> Bound:
    return Bound("equals", x)


def one_of(*options: Any) -> Bound:
    return Bound("one of", tuple(options))


def descending() -> Bound:
    return Bound("descending")


def ascending() -> Bound:
    return Bound("ascending")


# -- claims ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One checked statement: what was measured, the bound, and so its verdict.

    Built by `Expectation.of` (or `.not_checked`), never from a verdict. `reason`
    set means *not checked here*. `timing` marks a claim about how long things take,
    which `measure.check_timing` may re-measure or excuse on a busy machine.
    """

    id: str
    kind: str
    statement: str
    measured: Any
    bound: Bound
    unit: str = ""
    fmt: str = ""
    detail: str = ""
    timing: bool = False
    reason: str = ""
    module: str = ""  # where its expectation was declared: snippets.<episode>.<demo>

    def __post_init__(self) -> None:
        if isinstance(self.measured, bool):
            raise TypeError(f"claim {self.id!r}: a verdict comes from a measured "
                            "value and a bound, not from a bool")
        if self.measured is None and not self.reason:
            raise ValueError(f"claim {self.id!r}: nothing measured and no reason")

    @property
    def held(self) -> bool | None:
        return None if self.reason else self.bound.holds(self.measured)

    @property
    def verdict(self) -> Verdict:
        return {True: Verdict.HELD, False: Verdict.NOT_HELD,
                None: Verdict.NOT_CHECKED}[self.held]

    @property
    def value(self) -> str:
        """The measured value with its unit, as prose cites it."""
        if self.measured is None:
            return "-"
        return with_unit(number(self.measured, self.fmt), self.unit)

    @property
    def evidence(self) -> str:
        """What was measured against what it needed, from the same numbers."""
        if self.measured is None:
            return "-"
        lead = f"{self.detail}: " if self.detail else ""
        return f"{lead}{self.value}, needs {self.bound.words(self.unit, self.fmt)}"

    @property
    def margin(self) -> float | None:
        return None if self.held is None else self.bound.margin(self.measured)

    @property
    def episode(self) -> str:
        """The episode package the claim belongs to (ids are unique within it)."""
        parts = self.module.split(".")
        return parts[1] if len(parts) > 2 and parts[0] == "snippets" else self.module

    def to_json(self) -> dict:
        data = asdict(self)
        data["bound"] = self.bound.to_json()
        data["measured"] = _plain(self.measured)
        data.update(verdict=self.verdict.word, evidence=self.evidence,
                    value=self.value, margin=self.margin)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Claim:
        names = {f for f in cls.__dataclass_fields__}
        kept = {k: v for k, v in data.items() if k in names}
        b = data["bound"]
        value = tuple(b["value"]) if b["op"] == "one of" else b.get("value")
        kept["bound"] = Bound(b["op"], value, b.get("high"))
        return cls(**kept)


@dataclass(frozen=True)
class Expectation:
    """A claim before it is measured: its id, kind, statement and bound, written once.

    The statement may say `{bound}` (the bound in words) and `{name}`s filled from
    the keywords given to `of`; `of(measured)` makes the claim and its verdict."""

    id: str
    kind: str
    statement: str
    bound: Bound
    unit: str = ""
    fmt: str = ""
    timing: bool = False
    module: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"claim id {self.id!r}: use lowercase words and dashes")
        if self.kind not in (FINDING, CHECK):
            raise ValueError(f"claim {self.id!r}: kind is {FINDING} or {CHECK}")

    def text(self, **names: Any) -> str:
        """The statement with its bound in words; a `{name}` not given (a claim
        that could not be measured) reads as "…"."""
        words = self.bound.words(self.unit, self.fmt)
        return self.statement.format_map(_Unknown(bound=words, **names))

    def of(self, measured: Any, detail: str = "", **names: Any) -> Claim:
        return Claim(self.id, self.kind, self.text(**names), measured, self.bound,
                     self.unit, self.fmt, detail, self.timing, module=self.module)

    def not_checked(self, reason: str | Exception, **names: Any) -> Claim:
        why = getattr(reason, "reason", None) or str(reason)
        return Claim(self.id, self.kind, self.text(**names), None, self.bound,
                     self.unit, self.fmt, "", self.timing, why, self.module)


class _Unknown(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def caller_module() -> str:
    """The real name of the module that called the caller (run with -m, it is
    `__main__`): where a claim is declared, also through a helper that declares
    claims for its caller (`snippets/threads/_common.overlap`)."""
    found = sys._getframe(2).f_globals
    spec = found.get("__spec__")
    if found.get("__name__") == "__main__" and spec is not None:
        return spec.name
    return found.get("__name__", "")


def finding(id: str, statement: str, bound: Bound, *, unit: str = "", fmt: str = "",
            timing: bool = False) -> Expectation:
    """A statement about the systems the page explains, that could come out
    otherwise elsewhere."""
    return Expectation(id, FINDING, statement, bound, unit, fmt, timing,
                       caller_module())


def check(id: str, statement: str, bound: Bound, *, unit: str = "", fmt: str = "",
          timing: bool = False) -> Expectation:
    """Confirms the demo did what it says (shown apart, never counted a finding)."""
    return Expectation(id, CHECK, statement, bound, unit, fmt, timing,
                       caller_module())


def failed(claims: Iterable[Claim]) -> list[Claim]:
    """The claims measured here that did not hold (tests assert this is empty)."""
    return [c for c in claims if c.held is False]


def unchecked(claims: Iterable[Claim]) -> list[Claim]:
    """The claims that could not be checked on this machine (each has a reason)."""
    return [c for c in claims if c.held is None]


def explain(claims: Sequence[Claim]) -> str:
    """One line per claim; the reason once after a run of claims sharing it."""
    lines = []
    for i, c in enumerate(claims):
        if c.held is None:
            lines.append(f"{c.verdict.prefix} {c.statement}")
            following = claims[i + 1] if i + 1 < len(claims) else None
            if not (following and following.held is None
                    and following.reason == c.reason):
                lines.append(f"  because {c.reason}")
        else:
            lines.append(f"{c.verdict.prefix} {c.statement} ({c.evidence})")
    return "\n".join(lines)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """Format rows as a plain aligned table: text left, numbers right."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows)
               for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w)
                 for c, w, num in zip(row, widths, numeric)]
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


# -- publishing --------------------------------------------------------------------


class ClaimsNotHeld(SystemExit):
    """Exit status 1 from a script; an error in a notebook cell."""


def publish(claims: list[Claim], figures: dict[str, str] | None = None) -> None:
    """Print the claims; hand claims and SVG figures to the site build if it asked.

    Raises ClaimsNotHeld (exit status 1) when a claim does not hold, so a broken
    claim fails both a reader's run and the build. Not checked here does not fail.
    """
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise ValueError(f"claim id {c.id!r} is published twice")
        seen.add(c.id)
    print()
    print(explain(claims))
    out = os.environ.get(OUTPUT_DIR_ENV)
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, svg in (figures or {}).items():
            (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        path = folder / CLAIMS_FILE  # a notebook publishes once per cell: append
        before = json.loads(path.read_text()) if path.is_file() else []
        data = before + [c.to_json() for c in claims]
        path.write_text(json.dumps(data), encoding="utf-8")
    if failed(claims):
        print("claim not held:\n" + explain(failed(claims)), file=sys.stderr)
        raise ClaimsNotHeld(1)


def publish_unmeasured(expectations: Iterable[Expectation], why: Exception | str,
                       **names: Any) -> None:
    """Publish every claim `why` kept from being measured as *not checked here*."""
    publish([e.not_checked(why, **names) for e in expectations])


def read_claims(folder: Path) -> list[Claim] | None:
    """The claims a run published into `folder`, or None if it published none."""
    path = Path(folder) / CLAIMS_FILE
    if not path.is_file():
        return None
    return [Claim.from_json(d) for d in json.loads(path.read_text(encoding="utf-8"))]
