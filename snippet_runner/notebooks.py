"""Execute the site's notebooks ourselves: bounded per cell, errors fatal, cached well.

mkdocs-jupyter would execute them with no timeout, publish cell errors, and cache on
the notebook's bytes alone. Here each notebook runs once per change of itself, of the
project modules its cells import, of the lock file or of the environment; the
executed copy (outputs included, so readers download a notebook that already ran)
is what mkdocs-jupyter renders.

The kernel talks over IPC sockets in a private (0700) folder, never a TCP port
another local user could reach. Its cells publish their claims the way a snippet
does (`report.publish`, into `SNIPPET_OUTPUT_DIR`). A cell that raises fails with
the innermost project `path:line` of its traceback; one that hangs past its
timeout first has the kernel dump its stacks (`faulthandler` on SIGUSR1), so the
failure says where it was stuck.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from snippet_runner import where
from snippet_runner.cache import environment_id, local_imports, locked_environment
from snippet_runner.runner import SnippetFailure
from snippets.report import OUTPUT_DIR_ENV, Claim, read_claims

ARM_DUMP = """import faulthandler as _fh, signal as _signal
_fh.register(_signal.SIGUSR1, file=open({path!r}, "w"), all_threads=True)
del _fh, _signal"""
UNCHECKED = "unchecked"  # the folder of this environment's last run with such claims
CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")  # in IPython's tracebacks
CELL_FRAME = re.compile(r'ipykernel_\d+/\d+\.py", line (\d+)')  # in a stack dump


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


def _where(index: int, cell) -> str:
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
    return f"cell {index + 1} ({first.strip()[:60]!r})"


@dataclass
class NotebookRun:
    path: Path  # the executed copy, outputs included
    seconds: float
    cached: bool
    measured_at: float
    claims: list[Claim] = field(default_factory=list)

    @property
    def unchecked(self) -> list[Claim]:
        return [c for c in self.claims if c.held is None]


def _kernel(nb, root: Path, private: Path, timeout: float):
    """A client whose kernel (its own, shut down when done) listens on IPC sockets
    in `private`."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            allow_errors=False, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(root)}})
    km = client.create_kernel_manager()
    km.transport, km.ip = "ipc", str(private / "kernel")
    return client


def _stuck(client, dump: Path, root: Path, rel: Path, index: int) -> str:
    """Where the kernel is stuck: its stacks, dumped on SIGUSR1 (a line of the cell
    itself when no project module is on the stack)."""
    pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
    if pid:
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and "File" not in _read(dump):
            time.sleep(0.05)
    stacks = _read(dump)
    at = where.stuck_at(stacks, root)
    if not at:
        line = CELL_FRAME.search(stacks)
        at = f"{rel}: cell {index + 1}, line {line[1]}" if line else None
    return f", stuck at {at}" if at else ""


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _raised(error: Exception, rel: Path, index: int, root: Path) -> str:
    text = where.ANSI.sub("", str(error))
    at = where.raised_at(text, root)
    if not at:
        lines = CELL_LINE.findall(text)
        at = f"{rel}: cell {index + 1}, line {lines[-1]}" if lines else None
    last = [ln for ln in text.strip().splitlines() if ln.strip()][-1:] or [""]
    tail = "\n".join(f"    | {ln}" for ln in text.strip().splitlines()[-8:])
    return f"raised at {at}: {last[0].strip()}\n{tail}" if at else f"raised\n{tail}"


def _note_unchecked(cell, claims: list[Claim]) -> None:
    """Beside a cell's output whose findings could not be checked on this build: a
    note saying so, as an extra output of that cell (its code is left as it is)."""
    import nbformat

    missing = [c for c in claims if c.held is None]
    if not missing:
        return
    items = "".join(f"<li>{html.escape(c.statement)} ({html.escape(c.reason)})</li>"
                    for c in missing)
    text = "\n".join(f"not checked here: {c.statement} ({c.reason})" for c in missing)
    cell.outputs.append(nbformat.v4.new_output("display_data", data={
        "text/html": '<div class="admonition warning"><p class="admonition-title">'
                     "Not checked on this build</p><p>What this output would show "
                     "could not be measured on the machine that built this page:</p>"
                     f"<ul>{items}</ul></div>",
        "text/plain": text}))


def run_notebook(root: Path, path: Path, cache_dir: Path, timeout: float,
                 fresh: bool = False) -> NotebookRun:
    """Execute `path` (or reuse its cached executed copy) and return that copy.

    Each cell is bounded by `timeout`; a cell that raises, hangs or publishes a
    claim that did not hold fails with the cell's number and where it happened.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    rel = path.relative_to(root)
    # Keep the notebook's own file name: it is what a reader downloads.
    target = cache_dir / environment_id() / notebook_key(root, path, nb) / path.name
    meta = target.with_name("run.json")
    if target.is_file() and meta.is_file() and not fresh:
        data = json.loads(meta.read_text())
        claims = [Claim.from_json(c) for c in data.pop("claims")]
        return NotebookRun(target, cached=True, claims=claims, **data)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="notebook-") as folder:
        private = Path(folder)  # mkdtemp: 0700, this user's only
        out, dump = private / "out", private / "stacks.txt"
        out.mkdir()
        client = _kernel(nb, root, private, timeout)
        env = dict(os.environ, PYTHONHASHSEED="0", **{OUTPUT_DIR_ENV: str(out)})
        with client.setup_kernel(env=env):
            # not as a cell: nbclient would store it in the notebook's cells
            armed = client.kc.execute(ARM_DUMP.format(path=str(dump)), silent=True,
                                      store_history=False)
            client.wait_for_reply(armed)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                failed = f"notebook failed: {rel}: {_where(index, cell)}"
                before = len(read_claims(out) or [])
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    raise SnippetFailure(
                        f"{failed} ran longer than {timeout:g} s"
                        f"{_stuck(client, dump, root, rel, index)}; its kernel was "
                        "stopped"
                    ) from None
                except CellExecutionError as error:
                    broken = [c for c in read_claims(out) or [] if c.held is False]
                    if broken:
                        raise SnippetFailure(f"{failed}: a claim did not hold: " + "; "
                                             .join(f"{c.statement}: measured {c.evidence}"
                                                   for c in broken)) from None
                    raise SnippetFailure(
                        f"{failed} {_raised(error, rel, index, root)}") from None
                _note_unchecked(cell, (read_claims(out) or [])[before:])
        claims = read_claims(out) or []
    run = {"seconds": time.perf_counter() - start, "measured_at": time.time()}
    unchecked = [c for c in claims if c.held is None]
    if unchecked:  # like a snippet's: a run with unchecked claims is not cached
        target = cache_dir / environment_id() / UNCHECKED / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    if not unchecked:
        meta.write_text(json.dumps(dict(run, claims=[c.to_json() for c in claims])))
    return NotebookRun(target, cached=False, claims=claims, **run)


STYLE = re.compile(r"<style[^>]*>(?P<css>.*?)</style>", re.DOTALL)


def externalize_styles(html_text: str, site_dir: Path, href,
                       min_size: int = 2000) -> str:
    """Move big inline <style> blocks (mkdocs-jupyter inlines ~590 KB of JupyterLab
    CSS into every notebook page) into one shared, cacheable stylesheet; `href`
    turns its path in the site into a URL relative to the page."""
    def move(match: re.Match) -> str:
        css = match["css"]
        if len(css) < min_size:
            return match.group(0)
        digest = hashlib.sha256(css.encode()).hexdigest()[:16]
        name = f"assets/notebook/{digest}.css"
        target = site_dir / name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(css, encoding="utf-8")
        return f'<link rel="stylesheet" href="{href(name)}">'

    return STYLE.sub(move, html_text)
