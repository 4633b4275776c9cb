"""A snippet's listing on its page: the lines that matter, open; the whole file one
click away; highlighted lines and numbered notes that follow the code when it changes.

Pure functions from text to Markdown: no MkDocs here.
"""

from __future__ import annotations

import ast
import hashlib
import re


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


def _spans(lines: list[str], spec: str, where: str, what: str) -> list[tuple[int, int]]:
    """1-based inclusive ranges for `text` and `start ... end` texts, |-separated."""
    def first(text: str, start: int = 0) -> int:
        for n in range(start, len(lines)):
            if text in lines[n]:
                return n
        raise ListingError(f"{where}: no line contains {what} {text!r}")

    found = []
    for text in filter(None, (t.strip() for t in spec.split("|"))):
        if " ... " in text:
            a, b = (part.strip() for part in text.split(" ... ", 1))
            begin = first(a)
            found.append((begin + 1, first(b, begin) + 1))
        else:
            n = first(text) + 1
            found.append((n, n))
    return found


def notes_of(source: str, options: dict[str, str], where: str) -> list[tuple[int, str]]:
    """(line number, explanation) for each `text >> explanation` of `notes:`."""
    lines = source.splitlines()
    out = []
    for item in filter(None, (t.strip() for t in options.get("notes", "").split("|"))):
        text, sep, note = item.partition(">>")
        if not sep or not note.strip():
            raise ListingError(f"{where}: a note is 'text >> explanation', got {item!r}")
        (line, _), = _spans(lines, text.strip(), where, "note text")
        out.append((line, note.strip()))
    return out


def shown_ranges(source: str, options: dict[str, str], marked: list[int],
                 where: str) -> list[tuple[int, int]]:
    """The line ranges shown open: `show:` spans, else the definitions holding the
    highlighted lines."""
    if options.get("show"):
        return sorted(_spans(source.splitlines(), options["show"], where, "show"))
    return focus_ranges(source, marked) if marked else []


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


def _annotated(text_lines: list[str], start: int, notes: list[tuple[int, str]],
               numbered: list[str]) -> list[str]:
    """Lines start.. with `# (n)!` markers for the notes on them (Material's code
    annotations, numbered per code block); each note's text goes to `numbered`."""
    out = []
    for offset, line in enumerate(text_lines):
        for number, note in notes:
            if number == start + offset:
                numbered.append(note)
                line = f"{line}  # ({len(numbered)})!"
        out.append(line)
    return out


def _note_list(numbered: list[str]) -> list[str]:
    return [f"{i}. {note}" for i, note in enumerate(numbered, 1)]


def listing(rel: str, source: str, marked: list[int],
            ranges: list[tuple[int, int]] | None = None,
            notes: list[tuple[int, str]] = ()) -> tuple[list[str], str | None]:
    """Markdown for the source: the definitions holding the highlighted lines, then
    a placeholder for the whole file in a collapsed block (`folded_copy`, returned
    second, or None). Short or unhighlighted files are shown whole, open.

    The folded copy is rendered apart and put in place after the search index has
    read the page: it is most of a page's HTML, and its text is in the focused lines
    already, so search never parses it."""
    lines = source.splitlines()
    ranges = focus_ranges(source, marked) if ranges is None and marked else (
        ranges or [])
    shown = sum(b - a + 1 for a, b in ranges)
    numbered: list[str] = []
    if not ranges or shown >= len(lines) * 0.8:
        whole = fenced("python", "\n".join(_annotated(lines, 1, notes, numbered)),
                       f'title="{rel}" linenums="1"' + _hl(marked, 1, len(lines)))
        return ['<div class="snippet-source" markdown>', "", whole, "",
                *_note_list(numbered), "", "</div>"], None
    parts = ['<div class="snippet-source snippet-focus" markdown>', ""]
    for i, (a, b) in enumerate(ranges):
        title = f'title="{rel} (lines {a}-{b})"' if i == 0 else ""
        if i:
            parts += ['<p class="snippet-gap">⋮</p>', ""]
        attrs = f'{title} linenums="{a}"'.strip() + _hl(marked, a, b)
        numbered = []  # Material numbers a code block's annotations from 1
        text = "\n".join(_annotated(lines[a - 1:b], a, notes, numbered))
        parts += [fenced("python", text, attrs), "", *_note_list(numbered), ""]
    folded = folded_copy(rel, source, marked)
    placeholder = f'<div class="snippet-folded" data-key="{folded_key(folded)}"></div>'
    return parts + ["</div>", "", placeholder], folded


