"""Execute the site's notebooks ourselves: bounded per cell, errors fatal, cached well.

mkdocs-jupyter would execute them with no timeout, publish cell errors, and cache on
the notebook's bytes alone. Here each notebook runs once per change of itself, of the
project modules its cells import, of the lock file or of the environment; the
executed copy (outputs included, so readers download a notebook that already ran)
is what mkdocs-jupyter renders.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from snippet_runner.runner import SnippetFailure, local_imports, locked_environment

log = logging.getLogger("mkdocs.plugins.snippets-runner")


def _code(nb) -> str:
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines += [ln for ln in cell.source.splitlines()
                      if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def notebook_key(root: Path, path: Path, nb) -> str:
    digest = locked_environment(root)
    digest.update(path.read_bytes())
    for dep in sorted(local_imports(root, path, source=_code(nb)) - {path}):
        digest.update(dep.read_bytes())
    return digest.hexdigest()[:32]


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _where(index: int, cell) -> str:
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
    return f"cell {index + 1} ({first.strip()[:60]!r})"


def _text_outputs(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return ANSI.sub("", "".join(parts))


def verdict_lines(cell) -> tuple[list[str], list[str]]:
    """The `NOT HELD:` and `not checked here:` lines a cell printed with
    report.explain(): a notebook's claims obey the same rule as a snippet's."""
    lines = _text_outputs(cell).splitlines()
    return ([ln for ln in lines if ln.startswith("NOT HELD:")],
            [ln for ln in lines if ln.startswith("not checked here:")])


@dataclass
class NotebookRun:
    path: Path  # the executed copy, outputs included
    seconds: float
    cached: bool
    measured_at: float
    verdicts: dict[str, int] = field(default_factory=dict)


def run_notebook(root: Path, path: Path, cache_dir: Path, timeout: float,
                 fresh: bool = False) -> NotebookRun:
    """Execute `path` (or reuse its cached executed copy) and return that copy.

    Each cell is bounded by `timeout`; a cell that raises, hangs or prints a claim
    that did not hold fails with the cell's number and first line.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    rel = path.relative_to(root)
    # Keep the notebook's own file name: it is what a reader downloads.
    target = cache_dir / notebook_key(root, path, nb) / path.name
    meta = target.with_name("run.json")
    if target.is_file() and meta.is_file() and not fresh:
        log.info("notebook %s: cached result reused", rel)
        return NotebookRun(target, cached=True, **json.loads(meta.read_text()))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            allow_errors=False,
                            resources={"metadata": {"path": str(root)}})
    unchecked: list[str] = []
    held = 0
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            where = f"notebook failed: {rel}: {_where(index, cell)}"
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                raise SnippetFailure(f"{where} ran longer than {timeout:g} s; its "
                                     "kernel was stopped") from None
            except CellExecutionError as error:
                lines = ANSI.sub("", str(error)).strip().splitlines()
                tail = "\n".join(f"    | {ln}" for ln in lines[-8:])
                raise SnippetFailure(f"{where} raised\n{tail}") from None
            broken, skipped = verdict_lines(cell)
            if broken:
                raise SnippetFailure(f"{where}: a claim did not hold: "
                                     + "; ".join(broken))
            unchecked += [f"{_where(index, cell)}: {ln}" for ln in skipped]
            held += sum(ln.startswith("held:")
                        for ln in _text_outputs(cell).splitlines())
    for line in unchecked:
        logging.getLogger("snippets-runner.unchecked").warning("%s: %s", rel, line)
    run = {"seconds": time.perf_counter() - start, "measured_at": time.time(),
           "verdicts": {"held": held, "not held": 0,
                        "not checked here": len(unchecked)}}
    if unchecked:  # like a snippet's: a run with unchecked claims is not cached
        target = cache_dir / "unchecked" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    if not unchecked:
        target.with_name("run.json").write_text(json.dumps(run))
    log.info("notebook %s: executed", rel)
    return NotebookRun(target, cached=False, **run)
