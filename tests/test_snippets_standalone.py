"""Every demo runs as a reader runs it: the session's strict build ran each one fresh
with `python -m snippets.<episode>.<demo>`, in its own process group, bounded, and it
exited 0 having published claims none of which failed (else the build stopped)."""

from __future__ import annotations

import os
import re
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
