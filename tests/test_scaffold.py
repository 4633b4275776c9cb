"""`make page` creates the four pieces of a new episode, and never overwrites one."""

import pytest

from snippet_runner.scaffold import scaffold


def test_scaffold_creates_page_package_test_and_nav_entry(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("nav:\n  - Home: index.md\n  - Episodes:\n")
    scaffold("ephemeral-ports", "Running out of ports", "exhaust", root=tmp_path)
    page = (tmp_path / "docs" / "episodes" / "ephemeral-ports.md").read_text()
    assert "path: snippets/ephemeral_ports/exhaust.py" in page
    demo = (tmp_path / "snippets" / "ephemeral_ports" / "exhaust.py").read_text()
    assert "raise NotImplementedError" in demo  # a scaffold is never a finished page
    test = (tmp_path / "tests" / "test_ephemeral_ports.py").read_text()
    assert "from snippets.ephemeral_ports import exhaust" in test
    nav = (tmp_path / "mkdocs.yml").read_text()
    assert "      - Running out of ports: episodes/ephemeral-ports.md\n" in nav
    with pytest.raises(SystemExit, match="not overwritten"):
        scaffold("ephemeral-ports", "Again", "exhaust", root=tmp_path)


def test_scaffold_refuses_a_bad_slug(tmp_path):
    with pytest.raises(SystemExit, match="slug must look like"):
        scaffold("Ephemeral Ports", "x", root=tmp_path)
