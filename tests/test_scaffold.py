"""`make page` creates a page, package, test, nav entry, topics entry and home link
that build and test green at once (the demo's claim *not checked* until written), and
never overwrites anything."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from snippet_runner.scaffold import scaffold

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
plugins:
  - snippets-runner:
      topics:
        episodes/threads.md: [Threads and processes]
nav:
  - Home: index.md
  - Episodes:
      - When do you use threads?: episodes/threads.md
  - Topics: topics.md
"""
HOME = """\
| Date | Episode | What the page shows | Length |
|---|---|---|---|
| 2024-09-13 | [When do you use threads?](episodes/threads.md) | What a thread costs | 31 min |
| 2024-08-25 | Running out of TCP ephemeral source ports | Why a proxy runs out | 20 min |
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text(CONFIG)
    (tmp_path / "docs" / "index.md").write_text(HOME)
    return tmp_path


def test_scaffold_writes_page_package_test_nav_topics_and_home_link(project):
    scaffold("ephemeral-ports", "Running out of TCP ephemeral source ports",
             "exhaust", root=project)
    page = (project / "docs" / "episodes" / "ephemeral-ports.md").read_text()
    assert page.startswith("# Running out of TCP ephemeral source ports\n\n"
                           "*The Backend Engineering Show* · episode of ")
    assert "path: snippets/ephemeral_ports/exhaust.py" in page
    demo = (project / "snippets" / "ephemeral_ports" / "exhaust.py").read_text()
    assert "return [FIRST.not_checked(NOT_WRITTEN)]" in demo
    assert "raise NotImplementedError" not in demo  # it runs, and says why unchecked
    assert max(len(line) for line in demo.splitlines()) <= 88
    test = (project / "tests" / "test_ephemeral_ports.py").read_text()
    assert "from snippets.ephemeral_ports import exhaust" in test
    config = (project / "mkdocs.yml").read_text()
    assert ("  - Episodes:\n      - Running out of TCP ephemeral source ports: "
            "episodes/ephemeral-ports.md\n      - When do you use threads?") in config
    assert "      topics:\n        episodes/ephemeral-ports.md: []" in config
    home = (project / "docs" / "index.md").read_text()
    # the row the episode already had is linked, not duplicated
    assert ("| 2024-08-25 | [Running out of TCP ephemeral source ports]"
            "(episodes/ephemeral-ports.md) | Why a proxy runs out | 20 min |") in home
    assert home.count("ephemeral") == 2
    with pytest.raises(SystemExit, match="not overwritten"):
        scaffold("ephemeral-ports", "Again", "exhaust", root=project)


def test_an_episode_without_a_row_gets_a_new_one_and_a_quoted_nav_title(project):
    scaffold("demo-topic", "Demo: a title with a colon", root=project)
    config = (project / "mkdocs.yml").read_text()
    assert '      - "Demo: a title with a colon": episodes/demo-topic.md\n' in config
    home = (project / "docs" / "index.md").read_text()
    assert ("|---|---|---|---|\n| YYYY-MM-DD | [Demo: a title with a colon]"
            "(episodes/demo-topic.md) | What the page shows, in one line | N min |\n"
            ) in home


def test_a_refusal_leaves_the_project_untouched(project):
    (project / "mkdocs.yml").write_text("nav:\n  - Home: index.md\n")
    with pytest.raises(SystemExit, match="no '  - Episodes:' section"):
        scaffold("demo-topic", "Demo", root=project)
    assert not (project / "docs" / "episodes").exists()
    assert not (project / "snippets").exists()
    assert (project / "docs" / "index.md").read_text() == HOME


@pytest.mark.parametrize("slug, demo, message", [
    ("Ephemeral Ports", "demo", "slug must look like"),
    ("ephemeral-ports", "Exhaust-1", "demo must be a module name"),
])
def test_scaffold_refuses_a_bad_name(project, slug, demo, message):
    with pytest.raises(SystemExit, match=message):
        scaffold(slug, "x", demo, root=project)


# -- the scaffold in a copy of the project: tests and a strict build are green ------

COPIED = ["mkdocs.yml", "pyproject.toml", "requirements.lock",
          "requirements-runtimes.lock", "CONTRIBUTING.md", "docs", "snippets",
          "snippet_runner", "tests", "overrides"]
IGNORED = shutil.ignore_patterns("__pycache__", ".cache", "screenshots")


def _copy_project(target: Path) -> Path:
    target.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, target / name)
    return target


def _keep_only(copy: Path, slug: str) -> None:
    """Leave one episode in the copy (a fast build): drop the others' pages, their
    nav lines and their links on the home page, so --strict still sees no dead link."""
    others = [p for p in (copy / "docs" / "episodes").iterdir()
              if p.is_file() and p.name != f"{slug}.md"]
    for page in others:
        page.unlink()
    config = copy / "mkdocs.yml"
    nav_line = re.compile(r"^ +- [^\n]*: (?P<page>episodes/\S+)\n", re.MULTILINE)
    config.write_text(nav_line.sub(
        lambda m: m[0] if m["page"] == f"episodes/{slug}.md" else "",
        config.read_text()))
    home = copy / "docs" / "index.md"
    link = re.compile(r"\[(?P<title>[^\]]+)\]\(episodes/(?P<page>[^)]+)\)")
    home.write_text(link.sub(
        lambda m: m[0] if m["page"] == f"{slug}.md" else m["title"], home.read_text()))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SNIPPET", "PYTEST_", "TEST_SITE"))}
    return {**env, "PYTHONDONTWRITEBYTECODE": "1", **extra}


def _unused_slug(root: Path) -> str:
    """A slug no page or package has yet (the project may hold a scaffolded page,
    e.g. right after `make page SLUG=demo-topic`)."""
    for n in range(1, 100):
        slug = "scaffold-check" + (f"-{n}" if n > 1 else "")
        package = slug.replace("-", "_")
        if not ((root / "docs" / "episodes" / f"{slug}.md").exists()
                or (root / "snippets" / package).exists()):
            return slug
    raise AssertionError("no free slug")


def test_a_scaffolded_page_tests_green_and_builds_strict(tmp_path):
    copy = _copy_project(tmp_path / "project")
    slug = _unused_slug(copy)
    package = slug.replace("-", "_")
    scaffold(slug, "Scaffold check", root=copy)

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
         f"tests/test_{package}.py", "tests/test_site.py",
         "-k", f"{package} or test_every_snippet or test_every_episode_page"],
        cwd=copy, env=_env(), capture_output=True, text=True, timeout=240)
    summary = tests.stdout + tests.stderr
    assert tests.returncode == 0, summary[-3000:]
    assert re.search(r"\b3 passed, 1 skipped\b", summary), summary[-3000:]
    assert ("not written yet: measure something real in "
            f"snippets/{package}/demo.py") in summary

    _keep_only(copy, slug)
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=copy, env=_env(SNIPPETS_EXECUTE="1", NO_MKDOCS_2_WARNING="1"),
        capture_output=True, text=True, timeout=240)
    assert build.returncode == 0, build.stderr[-4000:]
    assert f"snippet snippets/{package}/demo.py: ran in" in build.stderr
    assert f"not checked here: snippets/{package}/demo.py" in build.stderr
    html = (site / "episodes" / slug / "index.html").read_text()
    assert "Verified at build" in html
    assert 'class="claim-unchecked"' in html and "not written yet" in html
    assert "claim-broken" not in html
    home = (site / "index.html").read_text()
    assert f'href="episodes/{slug}/"' in home
