"""The 404 page (overrides/404.html) is friendly: it links home, to the topics and to
every episode in the nav, every link lands on a page of this site, and it loads
nothing from another host."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import chromium

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / ".cache" / "screenshots"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []  # <a href>
        self.loads: list[str] = []  # everything the browser fetches by itself
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        elif tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])
        elif tag in {"script", "img", "iframe", "source", "audio", "video", "embed"}:
            self.loads += [attrs["src"]] if attrs.get("src") else []
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def nav_episode_urls() -> list[str]:
    """The site URL of every page under Episodes in the nav of mkdocs.yml."""
    nav = (ROOT / "mkdocs.yml").read_text().split("\nnav:\n", 1)[1]
    pages = re.findall(r":\s*episodes/([\w.-]+)\.(?:md|ipynb)\s*$", nav, re.MULTILINE)
    return [f"/episodes/{stem}/" for stem in pages]


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def check_404(site: Path) -> None:
    html = (site / "404.html").read_text()
    page = parse(html)
    assert page.title.startswith("Page not found")
    # the links the page's own text offers (the theme's nav sidebar aside)
    article = re.search(r"<article\b.*?</article>", html, re.DOTALL)
    assert article, "no article in 404.html"
    content = parse(article[0])
    local = [h for h in content.hrefs if not urlsplit(h).scheme and not
             urlsplit(h).netloc]
    paths = {urlsplit(h).path for h in local}
    assert "/" in paths, "no link home"
    assert "/topics/" in paths, "no link to the topics"
    assert "/#the-episodes" in local, "no link to the episode table"
    episodes = nav_episode_urls()
    assert episodes, "no episode found in the nav of mkdocs.yml"
    missing = [url for url in episodes if url not in paths]
    assert not missing, f"the 404 page does not link {missing}"
    # each link, the page's own and the theme's, lands on a page or file of this site
    for path in sorted(paths | {urlsplit(h).path for h in page.hrefs
                                if h.startswith("/")}):
        target = site / path.lstrip("/")
        assert (target / "index.html" if target.is_dir() else target).is_file(), path
    remote = [u for u in page.loads if re.match(r"^(https?:)?//", u, re.IGNORECASE)]
    assert not remote, f"the 404 page loads {remote}"
    for url in page.loads:
        assert (site / urlsplit(url).path.lstrip("/")).is_file(), url


def test_the_404_page_links_home_topics_and_every_episode(site):
    check_404(site)


class _NotFoundServer(http.server.SimpleHTTPRequestHandler):
    """A static host as most are: a missing path gets /404.html, status 404."""

    def log_message(self, *args) -> None:
        pass

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def test_a_missing_page_deep_in_the_site_shows_the_404_page_whole(site):
    handler = functools.partial(_NotFoundServer, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    browser = None
    try:
        browser = chromium.start("1280,900")
        browser.get(base + "episodes/no-such-episode/deeper/")
        assert browser.title.startswith("Page not found")
        # its stylesheet loaded even this deep: the theme's header is laid out
        assert browser.execute_script(
            "return getComputedStyle(document.querySelector('.md-header'))"
            ".position") == "sticky"
        requests = [json.loads(e["message"])["message"]
                    for e in browser.get_log("performance")]
        urls = [m["params"]["request"]["url"] for m in requests
                if m["method"] == "Network.requestWillBeSent"]
        outside = [u for u in urls if not u.startswith((base, "data:", "blob:"))]
        assert not outside, f"the 404 page asked another host for {outside}"
        links = browser.execute_script(
            "return [...document.querySelectorAll('article a[href]')]"
            ".map(a => a.href)")
        assert len(links) >= 3
        for link in links:  # every link the page offers is a page that exists
            with urllib.request.urlopen(urljoin(base, link), timeout=10) as reply:
                assert reply.status == 200, link
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SHOTS / "404.png"))
    finally:
        if browser is not None:
            browser.quit()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
