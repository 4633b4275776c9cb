"""How a snippet appears on a page: its listing (`listing`), the command to copy,
the output with its claim lines folded under a summary, a note for what could not
be checked here; and the legend near the top of a page.

Pure functions from text to Markdown/HTML: no MkDocs here, so another front-end can
call them.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

from snippet_runner.listing import (  # noqa: F401 (the plugin reads them here)
    FOLDED,
    ListingError,
    fenced,
    folded_key,
    highlighted_lines,
    listing,
    notes_of,
    shown_ranges,
)
from snippets.report import Verdict

CSS = {Verdict.HELD: "held", Verdict.NOT_HELD: "broken",
       Verdict.NOT_CHECKED: "unchecked"}


def command_block(command: str, repo_url: str = "") -> str:
    """What a reader types: set up once, in a clone of the repository, then run."""
    where = f"in a clone of {repo_url}" if repo_url else "in a clone of the repository"
    return fenced("console", f"$ make setup  # once, {where}\n"
                             f"$ .venv/bin/{command}", 'title="run it yourself"')


MARK = {Verdict.HELD: "✓", Verdict.NOT_HELD: "✗", Verdict.NOT_CHECKED: "?"}


def claims_summary(claims) -> str:
    """'✓ 4 findings held · 2 demo checks held · ? 1 not checked here'."""
    parts = []
    for kind, label in (("finding", "finding"), ("check", "demo check")):
        mine = [c for c in claims if c.kind == kind]
        for verdict in Verdict:
            n = sum(c.verdict is verdict for c in mine)
            if n:
                plural = "s" if n > 1 else ""
                word = verdict.word if verdict is not Verdict.NOT_CHECKED else \
                    "not checked here"
                parts.append(f"{MARK[verdict]} {n} {label}{plural} {word}")
    return " · ".join(parts) or "no claims"


def output_block(stdout: str, note: str, claims=()) -> str:
    """The run's stdout as wrapped, escaped HTML. Its claim lines (with the "because
    ..." line after not-checked ones) fold into one summary line that opens to
    them; the fold is open when something was not checked or did not hold."""
    body, folded, kind = "", "", None
    for line in stdout.rstrip().splitlines():
        verdict = Verdict.of_line(line)
        if verdict:
            kind = CSS[verdict]
        elif not (kind == "unchecked" and line.startswith("  because ")):
            kind = None
        text = html.escape(line)
        if kind:  # a claim line is a block of its own: no newline after it
            folded += f'<span class="claim-line claim-line-{kind}">{text}</span>'
        else:
            body += text + "\n"
    fold = ""
    if folded:
        opened = " open" if any(c.held is not True for c in claims) else ""
        fold = (f'<details class="claim-lines"{opened}><summary>'
                f"{html.escape(claims_summary(claims))}</summary>"
                f"<pre><code>{folded}</code></pre></details>")
    return (f'<div class="snippet-output"><div class="snippet-output-title">'
            f"{html.escape(note)}</div><pre><code>{body.rstrip()}</code></pre>"
            f"{fold}</div>")


def unchecked_note(claims) -> str:
    """Beside an output whose findings could not be checked on this build: what
    could not be shown here, and why (Markdown)."""
    missing = [c for c in claims if c.held is None]
    if not missing:
        return ""
    lines = "\n".join(f"    - {c.statement} ({c.reason})" for c in missing)
    return (f'!!! warning "Not checked on this build"\n    What this output would '
            f"show could not be measured on the machine that built this page, so "
            f"the text around it does not rest on it:\n\n{lines}\n")


@dataclass
class Shown:
    """What a fence became on the page: Markdown, and the folded whole file."""

    markdown: str
    folded: dict[str, str] = field(default_factory=dict)  # key -> Markdown


def snippet_block(rel: str, source: str, marked: list[int], hide_source: bool,
                  run=None, repo_url: str = "", ranges=None, notes=(),
                  fold_output: bool = False) -> Shown:
    """A fence's Markdown: the listing, then (if it ran) the command, the output of
    that run and its figures, and a note for what could not be checked; without a
    run, a note that nothing was executed."""
    parts: list[str] = []
    shown = Shown("")
    if not hide_source:
        lines, folded = listing(rel, source, marked, ranges, notes)
        parts += [*lines, ""]
        if folded:
            shown.folded[folded_key(folded)] = folded
    if run is None:
        parts.append('!!! note "Not executed"\n    This build did not run this '
                     "page's snippets (`SNIPPETS_EXECUTE=0` or `SNIPPETS_ONLY`), so "
                     "no output is shown.")
    else:
        ran = [command_block(run.command, repo_url), "",
               output_block(run.stdout, "output of that run, measured "
                            + when(run.measured_at), run.claims), ""]
        if fold_output:  # the summary says what it holds; the output one click away
            lines = len(run.stdout.strip().splitlines())
            ran = [f'<details class="snippet-run" markdown="1"><summary>Run it, and the '
                   f"output of this build's run ({lines} lines; "
                   f"{html.escape(claims_summary(run.claims))})</summary>", "",
                   *ran, "</details>", ""]
        parts += ran
        for name, svg in run.figures.items():
            flat = " ".join(svg.split())
            figure = f'<figure class="snippet-figure" id="figure-{name}">{flat}</figure>'
            parts += ["", figure]
        note = unchecked_note(run.claims)
        if note:
            parts += ["", note]
    shown.markdown = "\n".join(parts) + "\n"
    return shown


LEGEND = ('<p class="claims-legend" markdown><strong>How to read this page.</strong> '
          "A number marked ✓ was measured by this page's demos when the site was "
          "built, and the finding it supports **held**; ? marks one that could "
          "**not be checked here** on the build machine (the page says why), and a "
          "finding that fails stops the build. Each mark links to its row in "
          "[Verified at build](#verified-at-build).</p>")


def with_legend(lines: list[str]) -> list[str]:
    """The page's lines with the legend after the paragraph under its title."""
    title = next((i for i, ln in enumerate(lines) if ln.startswith("# ")), None)
    if title is None:
        return lines
    i = title + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        i += 1
    return [*lines[:i], "", LEGEND, *lines[i:]]


def when(epoch: float) -> str:
    """A run's time as a reader reads it, in UTC."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch)) if epoch else "-"
