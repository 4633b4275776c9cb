"""Fixtures shared by the site tests: one strict build of the whole site per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site built once with `mkdocs build --strict`, every snippet and notebook
    run afresh (SNIPPETS_FRESH=1): the build is where each demo runs as a reader runs
    it, and its results refresh the cache that `make build` then reuses.

    TEST_SITE_DIR=<folder> reuses a site already built there (for quick iteration).
    """
    if os.environ.get("TEST_SITE_DIR"):
        return Path(os.environ["TEST_SITE_DIR"]).resolve()
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
        env=dict(os.environ, SNIPPETS_FRESH="1", NO_MKDOCS_2_WARNING="1"))
    assert result.returncode == 0, result.stderr[-4000:]
    (out.parent / f"{out.name}.log").write_text(result.stderr)
    return out


@pytest.fixture(scope="session")
def build_log(site) -> str:
    """What the session's build printed (stderr: MkDocs logs there)."""
    log = site.parent / f"{site.name}.log"
    if not log.is_file():
        pytest.skip("TEST_SITE_DIR reuses a site built elsewhere: no log")
    return log.read_text()
