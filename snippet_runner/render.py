"""How a snippet appears on a page: the lines that matter, the whole file one click
away, the command to copy, and the output with its verdicts styled.

Pure functions from text to Markdown/HTML: no MkDocs here, so another front-end can
call them.
"""

from __future__ import annotations

import ast
import hashlib
import html
import re
import time
from dataclasses import dataclass, field

from snippets.report import Verdict

CSS = {Verdict.HELD: "held", Verdict.NOT_HELD: "broken",
       Verdict.NOT_CHECKED: "unchecked"}


class ListingError(ValueError):
    """A fence's options do not fit its file (a stale highlight, a bad line range)."""


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def fenced(language: str, text: str, attrs: str = "") -> str:
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}{language}{(' ' + attrs) if attrs else ''}\n{text}\n{fence}"


def highlighted_lines(source: str, options: dict[str, str], where: str) -> list[int]:
    """`hl_lines: 3 5-7` as given (checked against the file's length), plus the lines
    containing each `highlight: text | other text`, where `start ... end` spans from
    the first line containing start to the next containing end. Every text must
    match, so a highlight follows the code when the file is edited."""
    lines = source.splitlines()
    count = len(lines)
    chosen: set[int] = set()
    for span in options.get("hl_lines", "").split():
        if not re.fullmatch(r"\d+(-\d+)?", span) or int(span.split("-")[-1]) > count:
            raise ListingError(f"{where}: hl_lines {span!r} is not within 1-{count}")
        a, _, b = span.partition("-")
        chosen.update(range(int(a), int(b or a) + 1))

    def first(text: str, start: int = 0) -> int:
        for n in range(start, count):
            if text in lines[n]:
                return n
        raise ListingError(f"{where}: no line contains highlight {text!r}")

    texts = (t.strip() for t in options.get("highlight", "").split("|"))
    for text in filter(None, texts):
        if " ... " in text:  # a range: from the first line with A to the next with B
            a, b = (part.strip() for part in text.split(" ... ", 1))
            begin = first(a)
            chosen.update(range(begin + 1, first(b, begin) + 2))
        else:
            first(text)
            chosen.update(n for n, line in enumerate(lines, 1) if text in line)
    return sorted(chosen)


def focus_ranges(source: str, marked: list[int]) -> list[tuple[int, int]]:
    """1-based inclusive line ranges of the top-level definitions (with decorators)
    that hold the marked lines; a marked line outside any definition stands alone."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return []
    blocks = []
    for node in body:
        start = min([node.lineno] + [d.lineno for d in
                                     getattr(node, "decorator_list", [])])
        blocks.append((start, node.end_lineno or node.lineno))
    ranges: list[tuple[int, int]] = []
    for line in marked:
        block = next(((a, b) for a, b in blocks if a <= line <= b), (line, line))
        if block not in ranges:
            ranges.append(block)
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for a, b in ranges:  # join blocks that touch or are one blank line apart
        if merged and a <= merged[-1][1] + 3:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _hl(marked: list[int], start: int, end: int) -> str:
    inside = [str(n - start + 1) for n in marked if start <= n <= end]
    return f' hl_lines="{" ".join(inside)}"' if inside else ""


FOLDED = re.compile(r'<div class="snippet-folded" data-key="(?P<key>[0-9a-f]+)"></div>')


def folded_copy(rel: str, source: str, marked: list[int]) -> str:
    """Markdown for the whole file in a collapsed block."""
    lines = source.splitlines()
    whole = fenced("python", source, f'title="{rel}" linenums="1"'
                   + _hl(marked, 1, len(lines)))
    body = "\n".join("    " + ln if ln else ln for ln in whole.splitlines())
    return f'??? abstract "The whole file: `{rel}` ({len(lines)} lines)"\n\n{body}\n'


def folded_key(markdown: str) -> str:
    return hashlib.sha256(markdown.encode()).hexdigest()[:20]


def listing(rel: str, source: str, marked: list[int]) -> tuple[list[str], str | None]:
    """Markdown for the source: the definitions holding the highlighted lines, then
    a placeholder for the whole file in a collapsed block (`folded_copy`, returned
    second, or None). Short or unhighlighted files are shown whole, open.

    The folded copy is rendered apart and put in place after the search index has
    read the page: it is most of a page's HTML, and its text is in the focused lines
    already, so search never parses it."""
    lines = source.splitlines()
    ranges = focus_ranges(source, marked) if marked else []
    shown = sum(b - a + 1 for a, b in ranges)
    if not ranges or shown >= len(lines) * 0.8:
        whole = fenced("python", source, f'title="{rel}" linenums="1"'
                       + _hl(marked, 1, len(lines)))
        return ['<div class="snippet-source" markdown>', "", whole, "", "</div>"], None
    parts = ['<div class="snippet-source snippet-focus" markdown>', ""]
    for i, (a, b) in enumerate(ranges):
        title = f'title="{rel} (lines {a}-{b})"' if i == 0 else ""
        if i:
            parts += ['<p class="snippet-gap">⋮</p>', ""]
        attrs = f'{title} linenums="{a}"'.strip() + _hl(marked, a, b)
        parts += [fenced("python", "\n".join(lines[a - 1:b]), attrs), ""]
    folded = folded_copy(rel, source, marked)
    placeholder = f'<div class="snippet-folded" data-key="{folded_key(folded)}"></div>'
    return parts + ["</div>", "", placeholder], folded


def command_block(command: str) -> str:
    return fenced("console", f"$ {command}", 'title="run it yourself"')


def output_block(stdout: str, note: str) -> str:
    """The run's stdout as wrapped, escaped HTML; claim lines styled by verdict (a
    "because ..." line goes with the not-checked lines above it)."""
    body, kind = "", None
    for line in stdout.rstrip().splitlines():
        verdict = Verdict.of_line(line)
        if verdict:
            kind = CSS[verdict]
        elif not (kind == "unchecked" and line.startswith("  because ")):
            kind = None
        text = html.escape(line)
        # a claim line is a block of its own: a newline after it would add a blank
        body += (f'<span class="claim-line claim-line-{kind}">{text}</span>' if kind
                 else text + "\n")
    return (f'<div class="snippet-output"><div class="snippet-output-title">'
            f"{html.escape(note)}</div><pre><code>{body}</code></pre></div>")


@dataclass
class Shown:
    """What a fence became on the page: Markdown, and the folded whole file."""

    markdown: str
    folded: dict[str, str] = field(default_factory=dict)  # key -> Markdown


def snippet_block(rel: str, source: str, marked: list[int], hide_source: bool,
                  run=None) -> Shown:
    """A fence's Markdown: the listing, then (if it ran) the command, the output of
    that run and its figures; without a run, a note that nothing was executed."""
    parts: list[str] = []
    shown = Shown("")
    if not hide_source:
        lines, folded = listing(rel, source, marked)
        parts += [*lines, ""]
        if folded:
            shown.folded[folded_key(folded)] = folded
    if run is None:
        parts.append('!!! note "Not executed"\n    This build did not run this '
                     "page's snippets (`SNIPPETS_EXECUTE=0` or `SNIPPETS_ONLY`), so "
                     "no output is shown.")
    else:
        parts += [command_block(run.command), "",
                  output_block(run.stdout, "output of that run, measured "
                               + when(run.measured_at)), ""]
        for name, svg in run.figures.items():
            flat = " ".join(svg.split())
            figure = f'<figure class="snippet-figure" id="figure-{name}">{flat}</figure>'
            parts += ["", figure]
    shown.markdown = "\n".join(parts) + "\n"
    return shown


def when(epoch: float) -> str:
    """A run's time as a reader reads it, in UTC."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch)) if epoch else "-"
