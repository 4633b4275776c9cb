"""Execute the site's notebooks ourselves: bounded per cell, errors fatal, cached well.

mkdocs-jupyter would execute them with no timeout, publish cell errors, and cache on
the notebook's bytes alone. Here each notebook runs once per change of itself, of the
project modules its cells import, of the lock file or of the environment; the
executed copy (outputs included, so readers download a notebook that already ran)
is what mkdocs-jupyter renders.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.exceptions import PluginError

from snippet_runner.runner import local_imports, locked_environment

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


def run_notebook(root: Path, path: Path, cache_dir: Path, timeout: float,
                 fresh: bool = False) -> Path:
    """Return the path of an executed copy of `path`, running it if needed."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    # Keep the notebook's own file name: it is what a reader downloads.
    target = cache_dir / notebook_key(root, path, nb) / path.name
    if target.is_file() and not fresh:
        log.info("notebook %s: cached result reused", path.relative_to(root))
        return target
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            allow_errors=False,
                            resources={"metadata": {"path": str(root)}})
    try:
        client.execute()
    except CellTimeoutError:
        raise PluginError(
            f"notebook failed: {path.relative_to(root)}: a cell ran longer than "
            f"{timeout:g} s; its kernel was stopped") from None
    except CellExecutionError as error:
        tail = "\n".join(f"    | {ln}" for ln in str(error).strip().splitlines()[-12:])
        raise PluginError(f"notebook failed: {path.relative_to(root)}: a cell "
                          f"raised\n{tail}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    log.info("notebook %s: executed", path.relative_to(root))
    return target
