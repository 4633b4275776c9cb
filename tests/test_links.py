"""Every internal link of the built site resolves, fragment included, and no page
shows Markdown that was never converted."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

SKIP_SCHEMES = {"http", "https", "mailto", "data", "javascript"}
# Markdown syntax that survived into a page's text (outside code): a link or an
# image, bold or code markers, a heading or a fence at the start of a line
RAW = re.compile(r"\]\((?:[^)\s]+)\)|\*\*\S[^*\n]*\*\*|(?m:^\s*(?:#{2,6} |```))"
                 r"|(?<![\w`])`[^`\n]+`(?![\w`])")


class _Page(HTMLParser):
    """A page's ids, its links, and its visible text outside code."""

    SKIPPED = frozenset({"code", "pre", "script", "style", "svg", "textarea", "kbd"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "link", "img", "script", "source"):
                self.links.append(attrs[key])
        if tag in self.SKIPPED:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def _target(site: Path, page: Path, url: str) -> tuple[Path | None, str]:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None, ""
    if not parts.path:
        return page, parts.fragment
    base = page.parent if not parts.path.startswith("/") else site
    target = (base / unquote(parts.path.lstrip("/"))).resolve()
    if target.is_dir() or parts.path.endswith("/"):
        target = target / "index.html"
    return target, parts.fragment


@pytest.fixture(scope="module")
def pages(site) -> dict[Path, _Page]:
    return {p.resolve(): _parse(p) for p in site.rglob("*.html")}


def test_every_internal_link_and_fragment_resolves(site, pages):
    broken = []
    for path, page in pages.items():
        for url in page.links:
            scheme = urlsplit(url).scheme
            if scheme in SKIP_SCHEMES:
                continue
            target, fragment = _target(site.resolve(), path, url)
            if target is None:
                broken.append(f"{path.relative_to(site)}: {url} (scheme {scheme!r})")
            elif not target.exists():
                broken.append(f"{path.relative_to(site)}: {url} (no such file)")
            elif fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{path.relative_to(site)}: {url} (no #{fragment})")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:40])


def test_no_page_shows_unconverted_markdown(site, pages):
    found = []
    for path, page in pages.items():
        if path.name == "404.html" or "search" in path.parts:
            continue
        text = " ".join(page.text)
        found += [f"{path.relative_to(site)}: {m.group(0)!r}" for m in RAW.finditer(text)]
    assert not found, "raw Markdown in pages:\n" + "\n".join(found[:40])
