"""Every demo runs as a reader runs it: `python -m snippets.<episode>.<demo>`, in its
own process group, bounded, exits 0 having published claims that all held."""

from __future__ import annotations

from pathlib import Path

import pytest

from snippet_runner.runner import execute

ROOT = Path(__file__).resolve().parents[1]
DEMOS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("snippets/*/*.py")
               if not p.name.startswith("_"))


@pytest.mark.parametrize("rel_path", DEMOS)
def test_snippet_runs_standalone(rel_path):
    run = execute(ROOT, rel_path, timeout=60)  # raises SnippetFailure on any fault
    assert run.stdout.strip(), "a demo prints a table"
    assert run.claims, "a demo checks at least one claim"
