"""`make compare`: a row per claim with the site's value and this machine's, both
environments, a summary; exit 1 only for a claim not held here."""

from __future__ import annotations

import json

from snippet_runner import compare
from snippet_runner.runner import SnippetRun
from snippets.report import above, finding

FAST = finding("fast", "fast: {bound}", above(2), unit="x")


def test_a_row_per_claim_of_the_page_beside_the_sites(site):
    lines: list[str] = []
    code = compare.compare("six-stages", str(site / "claims.json"), out=lines.append)
    text = "\n".join(lines)
    published = json.loads((site / "claims.json").read_text())["claims"]
    ids = {c["id"] for c in published if c["page"] == "episodes/six-stages.md"}
    assert ids and all(f"\n{cid} " in text for cid in ids)
    assert "the site" in text and "this machine" in text and "kernel" in text
    assert "summary:" in text and code == 0


def test_a_claim_not_held_here_is_the_only_failure(tmp_path, monkeypatch):
    site = tmp_path / "claims.json"
    site.write_text(json.dumps({"environment": {}, "claims": [
        {"page": "episodes/x.md", "id": "fast", "value": "3x", "verdict": "held"}]}))
    monkeypatch.setattr(compare, "snippets_of", lambda slug: [
        ("episodes/x.md", "snippets/x/y.py", 30)])
    for measured, expected_code, word in ((3.0, 0, "same"), (2.5, 0, "different value"),
                                          (1.0, 1, "different verdict")):
        run = SnippetRun("snippets/x/y.py", "python -m x", "", "", 0.1,
                         [FAST.of(measured)])
        monkeypatch.setattr(compare, "execute", lambda *a, run=run, **k: run)
        lines: list[str] = []
        assert compare.compare(None, str(site), out=lines.append) == expected_code
        assert word in "\n".join(lines)
