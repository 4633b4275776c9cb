"""`make compare`: this machine's claims beside the site's, claim by claim.

    python -m snippet_runner.compare [--episode SLUG] [--site PATH_OR_URL]

Runs the snippets of one episode page (or of every episode page) afresh, here, and
prints for each claim the site's measured value and verdict beside this machine's,
then both environments and a summary: same verdict, different value, different
verdict, not checked here. The site's side is the built site's `site/claims.json`
by default, or a published one (a path or a URL). Exits 1 only when a claim does
not hold here; a machine that measures other values, or cannot check something,
is what the comparison is for.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

from snippet_runner.fences import fences_of
from snippet_runner.runner import SnippetFailure, execute
from snippet_runner.site_pages import environment
from snippets.report import Verdict, table

ROOT = Path(__file__).resolve().parents[1]
EPISODES = ROOT / "docs" / "episodes"


def site_claims(where: str) -> dict:
    """The site's claims.json, from a path or a URL."""
    if where.startswith(("http://", "https://")):
        with urllib.request.urlopen(where, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())
    path = Path(where)
    if not path.is_file():
        raise SystemExit(f"compare: no {where}: build the site first (`make build`) or "
                         "pass SITE=<path or URL of a claims.json>")
    return json.loads(path.read_text(encoding="utf-8"))


def snippets_of(slug: str | None) -> list[tuple[str, str, float]]:
    """(page src path, snippet, timeout) for the episode's fences, or every page's."""
    pages = [EPISODES / f"{slug}.md"] if slug else sorted(EPISODES.glob("*.md"))
    found = []
    for page in pages:
        if not page.is_file():
            raise SystemExit(f"compare: no episode page {page.relative_to(ROOT)}")
        src = page.relative_to(ROOT / "docs").as_posix()
        for fence in fences_of(page.read_text(encoding="utf-8"), src, ROOT,
                               ROOT / "snippets", 30):
            if (src, fence.path) not in {(s, p) for s, p, _ in found}:
                found.append((src, fence.path, fence.timeout))
    return found


def status(site: dict | None, here) -> str:
    if here.held is None:
        return "not checked here"
    if site is None:
        return "new here"
    if site["verdict"] != here.verdict.word:
        return "different verdict"
    return "same" if site["value"] == here.value else "different value"


def compare(slug: str | None, where: str, out=print) -> int:
    published = site_claims(where)
    theirs = {(c["page"], c["id"]): c for c in published["claims"]}
    rows, counts, broken = [], {}, 0
    for src, rel, timeout in snippets_of(slug):
        out(f"running {rel} ...")
        try:
            run = execute(ROOT, rel, timeout, judge=False)
        except SnippetFailure as failure:
            out(f"  it failed: {str(failure).splitlines()[0]}")
            broken += 1
            continue
        for claim in run.claims:
            site = theirs.get((src, claim.id))
            what = status(site, claim)
            counts[what] = counts.get(what, 0) + 1
            broken += claim.verdict is Verdict.NOT_HELD
            rows.append([claim.id, f"{site['value']} ({site['verdict']})" if site
                         else "-", f"{claim.value} ({claim.verdict.word})", what])
    out("")
    out(table(["claim", "the site", "this machine", ""], rows))
    out("")
    here = environment()
    out(table(["", "the site", "this machine"], [
        [key, published.get("environment", {}).get(key, "-"), value]
        for key, value in here.items()]))
    out("")
    out("summary: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    if broken:
        out(f"{broken} claim(s) did not hold (or a demo failed) on this machine")
    return 1 if broken else 0


def main(argv: list[str] | None = None) -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--episode", help="one page's slug, e.g. threads")
    args.add_argument("--site", default=str(ROOT / "site" / "claims.json"),
                      help="the site's claims.json: a path or a URL")
    options = args.parse_args(argv)
    sys.exit(compare(options.episode, options.site))


if __name__ == "__main__":
    main()
