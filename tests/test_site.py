"""The site as a whole: a strict build, no request to another host, no orphan snippet,
every written episode reachable, every notebook executes."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from snippet_runner.fences import replace_fences as replace_snippet_fences

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"


def demo_files() -> list[Path]:
    return sorted(p for p in SNIPPETS.glob("*/*.py") if not p.name.startswith("_"))


def shown_paths() -> set[str]:
    """Snippet paths named by ```snippet fences in docs/."""
    shown: set[str] = set()

    def collect(indent: str, body: str) -> list[str]:
        shown.update(re.findall(r"^path:\s*(\S+)", body, re.MULTILINE))
        return []

    for page in DOCS.rglob("*.md"):
        replace_snippet_fences(page.read_text().splitlines(), collect)
    return shown


def test_site_builds_strict_with_a_verified_table_on_every_episode(site):
    for page in sorted(DOCS.glob("episodes/*.md")):
        html = (site / "episodes" / page.stem / "index.html").read_text()
        assert "Verified at build" in html, page.name
        assert "claim-broken" not in html, page.name


class _Refs(HTMLParser):
    TAGS = {"link": "href", "script": "src", "img": "src", "iframe": "src",
            "source": "src", "audio": "src", "video": "src", "embed": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = self.TAGS.get(tag)
        self.refs += [v for k, v in attrs if k == wanted and v]


def test_no_page_loads_anything_from_another_host(site):
    remote = re.compile(r"^(https?:)?//", re.IGNORECASE)
    for page in site.rglob("*.html"):
        parser = _Refs()
        parser.feed(page.read_text(errors="replace"))
        outside = [r for r in parser.refs if remote.match(r)]
        assert not outside, f"{page.relative_to(site)} loads {outside}"
    for css in site.rglob("*.css"):
        text = css.read_text(errors="replace")
        assert not re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", text), css.name


def test_every_snippet_is_shown_by_a_page_and_named_by_a_test():
    shown = shown_paths()
    tests_text = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    for demo in demo_files():
        rel = demo.relative_to(ROOT).as_posix()
        assert rel in shown, f"no page shows {rel}"
        package, module = demo.parent.name, demo.stem
        assert re.search(rf"\b{package}\b[\s\S]*\b{module}\b", tests_text), (
            f"no test imports snippets.{package}.{module}")
    for path in shown:
        assert (ROOT / path).is_file(), f"a page shows missing {path}"


def test_every_episode_page_is_in_the_nav_and_linked_from_home():
    config = (ROOT / "mkdocs.yml").read_text()
    home = (DOCS / "index.md").read_text()
    for page in DOCS.glob("episodes/*.md"):
        assert f"episodes/{page.name}" in config, f"{page.name} missing from nav"
        assert f"(episodes/{page.name})" in home, f"{page.name} not linked from home"


@pytest.mark.parametrize("notebook", sorted(DOCS.rglob("*.ipynb")),
                         ids=lambda p: p.name)
def test_notebook_ran_in_this_build_with_no_claim_broken(site, notebook):
    """The session's fresh build executed every notebook (a cell that raised, hung
    or printed a broken claim would have stopped it); its report says so."""
    if os.environ.get("TEST_SITE_DIR"):
        pytest.skip("TEST_SITE_DIR reuses a site built elsewhere")
    report = (site / "build-report" / "index.html").read_text()
    rel = notebook.relative_to(DOCS).as_posix()
    row = next((r for r in re.findall(r"<tr>(.*?)</tr>", report, re.DOTALL)
                if rel in r), None)
    assert row, f"{rel} is not in the build report"
    assert "ran now" in re.sub(r"<[^>]+>", " ", row)
    assert "not held" not in row


def test_the_build_reports_own_headings_are_in_its_contents(site):
    html = (site / "build-report" / "index.html").read_text()
    assert '<a href="#build-speed" class="md-nav__link">' in html


def test_the_build_log_warns_only_of_claims_not_checked_here(build_log):
    """No warning but *not checked here* (a busy machine, a missing tool): in
    particular no notebook kernel listening on TCP, which any local user could reach."""
    warnings = [line for line in build_log.splitlines()
                if "WARNING" in line and "not checked here:" not in line]
    assert not warnings, "\n".join(warnings)
    assert "over TCP" not in build_log


@pytest.mark.parametrize("ran, total, expected", [
    (3, 3, "This build ran all 3 snippets and notebooks."),
    (0, 3, ("This build ran none of the 3 snippets and notebooks: it reused the "
            "cached result of each.")),
    (1, 3, ("This build ran 1 of the 3 snippets and notebooks and reused the cached "
            "results of the other 2.")),
])
def test_the_build_report_reads_right_for_every_count(ran, total, expected):
    from snippet_runner.site_pages import _ran_sentence

    assert _ran_sentence(ran, total) == expected


@pytest.mark.parametrize("notebook", sorted(DOCS.rglob("*.ipynb")),
                         ids=lambda p: p.name)
def test_the_downloadable_notebook_has_the_cells_of_its_source(site, notebook):
    """The executed copy readers download: the same cells, outputs added."""
    import nbformat

    rel = notebook.relative_to(DOCS)
    executed = site / rel.with_suffix("") / notebook.name
    ours, theirs = (nbformat.read(p, as_version=4) for p in (notebook, executed))
    assert [c.source for c in theirs.cells] == [c.source for c in ours.cells]
    assert any(c.get("outputs") for c in theirs.cells if c.cell_type == "code")
