"""The ```snippet fence: found in a page, parsed once into a `Fence`.

    ```snippet
    path: snippets/threads/io_bound.py
    timeout: 20
    highlight: def thread_pool ... list(pool.map
    ```

`path` names a .py file under the snippets folder; `timeout` bounds its run;
`highlight` (texts, `a ... b` spans, `|`-separated) and `hl_lines` mark the lines
that matter; `show` (the same kind of spans) picks the lines shown open, where the
default is the definitions holding the highlighted lines; `notes` (`text >>
explanation`, `|`-separated) puts a numbered note on the line containing each text;
`source: hide` shows only the output; `output: fold` folds the output (and the
command) under a one-line summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
OPTIONS = ("path", "timeout", "hl_lines", "highlight", "source", "show", "notes",
           "output")


class FenceError(ValueError):
    """A fence that names no file, a missing one, or an unknown option."""


@dataclass(frozen=True)
class Fence:
    path: str  # from the project root
    timeout: float
    page: str  # the page's path from the project root, for messages
    highlight: str = ""
    hl_lines: str = ""
    source: str = ""  # "hide": output only
    show: str = ""
    notes: str = ""
    output: str = ""  # "fold": the run's output folded under one line

    @property
    def options(self) -> dict[str, str]:
        return {"highlight": self.highlight, "hl_lines": self.hl_lines,
                "show": self.show, "notes": self.notes}


def parse(body: str, page: str, root: Path, snippets: Path,
          default_timeout: float) -> Fence:
    options: dict[str, str] = {}
    for line in body.strip().splitlines():
        key, sep, value = line.strip().partition(":")
        if not sep or key.strip() not in OPTIONS:
            raise FenceError(f"{page}: bad snippet option line {line!r}; use "
                             f"'key: value' with keys {sorted(OPTIONS)}")
        options[key.strip()] = value.strip()
    if "path" not in options:
        raise FenceError(f"{page}: a snippet fence needs 'path: <file>'")
    file = (root / options["path"]).resolve()
    if not file.is_relative_to(snippets) or file.suffix != ".py":
        raise FenceError(f"{page}: a snippet path names a .py file under "
                         f"{snippets.name}/, got {options['path']!r}")
    if not file.is_file():
        raise FenceError(f"{page}: snippet file not found: {options['path']}")
    timeout = float(options.pop("timeout", default_timeout))
    return Fence(timeout=timeout, page=page, **options)


def replace_fences(lines: list[str],
                   replace: Callable[[str, str], list[str]]) -> list[str]:
    """Swap each top-level ```snippet fence for replace(indent, body) lines.

    Fences inside other fences (a page showing the syntax) are left alone.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        opened = FENCE_OPEN.match(lines[i])
        if not opened:
            out.append(lines[i])
            i += 1
            continue
        indent, fence = opened["indent"], opened["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        if opened["info"].strip() == "snippet" and fence[0] == "`":
            body = "\n".join(line[len(indent):] for line in lines[i + 1:end])
            out += replace(indent, body)
        else:
            out += lines[i:end + 1]
        i = end + 1
    return out


def fences_of(markdown: str, page: str, root: Path, snippets: Path,
              default_timeout: float) -> list[Fence]:
    found: list[Fence] = []

    def collect(indent: str, body: str) -> list[str]:
        found.append(parse(body, page, root, snippets, default_timeout))
        return []

    replace_fences(markdown.splitlines(), collect)
    return found
