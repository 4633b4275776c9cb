"""The site builds with ProperDocs (the continuation of MkDocs 1.x) as it does with
MkDocs: same mkdocs.yml, our plugin loaded from its `mkdocs.plugins` entry point, the
same pages, each episode with its Verified table, the same 404 page.

The ProperDocs build reuses the snippet runs the MkDocs build of this session (the
`site` fixture) cached, so it takes seconds, not minutes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_404 import check_404

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ROW = re.compile(r'<span class="claim-(?:held|broken|unchecked)"')


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNIPPETS_")}
    return {**env, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


def test_properdocs_finds_our_plugin_by_its_mkdocs_entry_point():
    # In its own process: importing properdocs' CLI aliases every mkdocs.* module.
    probe = ("from properdocs.plugins import get_plugins; p = get_plugins()"
             "['snippets-runner']; print(p.group, p.value)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                         text=True, timeout=60, env=_env())
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["mkdocs.plugins",
                                  "snippet_runner.plugin:SnippetRunnerPlugin"]


@pytest.fixture(scope="module")
def properdocs_site(site, tmp_path_factory) -> tuple[Path, str]:
    """`properdocs build --strict` of mkdocs.yml (after the MkDocs build)."""
    out = tmp_path_factory.mktemp("properdocs-site")
    build = subprocess.run(
        [sys.executable, "-m", "properdocs", "build", "--strict",
         "--config-file", "mkdocs.yml", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=_env())
    assert build.returncode == 0, build.stderr[-4000:]
    return out, build.stderr


def _pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*.html")
            if "assets" not in p.parts}


def test_properdocs_builds_the_same_pages_with_their_verified_tables(
        site, properdocs_site):
    built, log = properdocs_site
    assert "Building documentation to directory" in log
    assert _pages(built) == _pages(site)
    episodes = sorted(DOCS.glob("episodes/*.md"))
    assert episodes
    for page in episodes:
        ours = (built / "episodes" / page.stem / "index.html").read_text()
        theirs = (site / "episodes" / page.stem / "index.html").read_text()
        assert "Verified at build" in ours, page.name
        assert "claim-broken" not in ours, page.name
        assert len(ROW.findall(ours)) == len(ROW.findall(theirs)) > 0, page.name
    report = (built / "build-report" / "index.html").read_text()
    assert "This build ran" in report
    if not os.environ.get("TEST_SITE_DIR"):  # the cache the MkDocs build just filled
        assert re.search(r"<td>cached</td>", report), "no cached run was reused"


def test_properdocs_renders_the_same_404_page(properdocs_site):
    check_404(properdocs_site[0])
