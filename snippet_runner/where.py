"""Where a run failed: the project's own `path:line` in a traceback or a stack dump.

A snippet that raises prints a Python traceback (most recent call last); one stuck
past its timeout is made to dump its stacks by `faulthandler` (most recent call
first); a notebook cell's error comes as IPython's traceback, whose frames read
`File /abs/path.py:12, in f()`. Each names files; the one that matters is the
innermost frame in the project's own code: not the standard library, not an
installed package, not the runner's own start-up code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PYTHON_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)'
                          r'(?:,? in (?P<func>[^\s,]+))?')
IPYTHON_FRAME = re.compile(r"File (?P<path>[~/][^\s:]*):(?P<line>\d+)"
                           r"(?:, in (?P<func>[^\s(]+))?")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RUNNER_FILES = ("snippet_runner/zygote.py",)


def project_path(path: str, root: Path) -> str | None:
    """`path` relative to the project root, if it is the project's own code."""
    path = os.path.expanduser(path)
    if not os.path.isabs(path):  # "<frozen runpy>", "<string>"
        return None
    try:
        rel = Path(path).resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    text = rel.as_posix()
    if text.startswith(".") or "site-packages" in rel.parts or text in RUNNER_FILES:
        return None
    return text


def frames(text: str, root: Path) -> list[str]:
    """Every project frame named in `text`, in the order it names them, each as
    `path:line (in function)`."""
    found = []
    for line in ANSI.sub("", text).splitlines():
        match = PYTHON_FRAME.search(line) or IPYTHON_FRAME.search(line)
        if not match:
            continue
        rel = project_path(match["path"], root)
        if rel:
            func = f" (in {match['func']})" if match["func"] else ""
            found.append(f"{rel}:{match['line']}{func}")
    return found


def raised_at(traceback_text: str, root: Path) -> str | None:
    """The innermost project frame of a traceback (most recent call last)."""
    found = frames(traceback_text, root)
    return found[-1] if found else None


def stuck_at(dump: str, root: Path) -> str | None:
    """The innermost project frame of a faulthandler dump (most recent call first),
    preferring the thread the dump calls current (the main one, for a signal)."""
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump)
    current = [b for b in blocks if b.lstrip().startswith("Current thread")]
    for block in current + blocks:
        found = frames(block, root)
        if found:
            return found[0]
    return None
