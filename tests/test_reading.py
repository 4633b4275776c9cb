"""Pages that teach: each episode page opens with its answer (cited values) and ends
with what to do with it, shows at most ~150 lines of code and output before anything
is opened, folds its verification, and says where to go next."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EPISODES = sorted(p.stem for p in (ROOT / "docs" / "episodes").glob("*.md"))
VISIBLE_LINES = 150


class _Visible(HTMLParser):
    """Lines of code and output a reader sees before opening anything (inside a
    <pre> not within a closed <details>), and the page's sections."""

    SKIPPED = ("script", "style", "svg")
    numbers = False

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.folds: list[bool] = []  # for each open <details>: is it closed?
        self.pre, self.buffer, self.lines, self.skip = 0, "", 0, 0

    @property
    def hidden(self) -> bool:
        return any(self.folds)

    def handle_starttag(self, tag, attrs):
        if tag == "td" and "linenos" in (dict(attrs).get("class") or ""):
            self.skip += 1  # the line numbers beside a listing: not lines of code
            self.numbers = True
        if tag == "details":
            self.folds.append("open" not in dict(attrs))
        elif tag == "pre":
            self.pre += 1
            self.buffer = ""
        elif tag in self.SKIPPED:
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "td" and getattr(self, "numbers", False):
            self.skip -= 1
            self.numbers = False
        if tag == "details" and self.folds:
            self.folds.pop()
        elif tag == "pre" and self.pre:
            self.pre -= 1
            if not self.hidden:
                self.lines += len(self.buffer.strip("\n").splitlines())
        elif tag in self.SKIPPED and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.pre and not self.skip:
            self.buffer += data


def article(site: Path, slug: str) -> str:
    html = (site / "episodes" / slug / "index.html").read_text(encoding="utf-8")
    return html[html.find("<article"):html.find("</article>")]


def visible_lines(html: str) -> int:
    parser = _Visible()
    parser.feed(html)
    return parser.lines


@pytest.mark.parametrize("slug", EPISODES)
def test_the_page_opens_with_its_answer_in_cited_values(site, slug):
    html = article(site, slug)
    box = re.search(r'<div class="admonition abstract">\s*<p class="admonition-title">'
                    r"What this page shows</p>(.*?)</div>", html, re.DOTALL)
    assert box, "no 'What this page shows' box"
    assert len(re.findall(r'class="claim-cite', box[1])) >= 3, "fewer than 3 citations"
    assert html.find("What this page shows") < html.find('class="snippet-source'), (
        "the answer comes after the first listing")


@pytest.mark.parametrize("slug", EPISODES)
def test_the_page_ends_with_what_to_do_with_it_and_where_to_go_next(site, slug):
    html = article(site, slug)
    assert 'id="what-to-do-with-it"' in html
    assert 'id="read-next"' in html


@pytest.mark.parametrize("slug", EPISODES)
def test_at_most_150_lines_of_code_and_output_before_anything_is_opened(site, slug):
    assert visible_lines(article(site, slug)) <= VISIBLE_LINES


@pytest.mark.parametrize("slug", EPISODES)
def test_verification_is_folded_one_summary_line_per_output(site, slug):
    html = article(site, slug)
    # every claim line of an output sits in its fold; the Verified table is folded
    outside = re.sub(r'<details class="claim-lines".*?</details>', "", html,
                     flags=re.DOTALL)
    assert 'class="claim-line ' not in outside
    assert '<details class="verified-table"' in html
    assert 'class="claims-legend"' in html


def test_the_home_page_says_what_each_episode_shows(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    for slug in EPISODES:
        row = re.search(rf'href="episodes/{re.escape(slug)}/"[^<]*</a>(.*?)</tr>', home,
                        re.DOTALL)
        assert row, f"{slug} is not in the home page's table"
        assert len(re.sub(r"<[^>]+>", " ", row[1]).split()) >= 8, (
            f"no one-line summary for {slug}")
