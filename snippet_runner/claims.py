"""A page's claims: the sentences that cite them, and the Verified table.

Page prose cites a claim by id with a Markdown link to `claim:<id>`:

    The pool took [](claim:pool-fraction) of the sequential time.
    [Two processes ran at once](claim:processes-overlap).

An empty link text renders the claim's measured value from this build; either way
the citation carries the verdict and links to the claim's row in the page's
"Verified at build" table, whose row links back to every sentence citing it. An
id the page's runs did not publish fails the build, naming the page and the id; so
does a finding no sentence of its page cites. Findings and checks are tabled
apart: the checks (the demo did what it says) fold away under the findings.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from snippets.report import CHECK, FINDING, Claim, Verdict

CITATION = re.compile(r'<a href="claim:(?P<id>[^"]*)"[^>]*>(?P<text>.*?)</a>', re.DOTALL)
MARK = {Verdict.HELD: "✓", Verdict.NOT_HELD: "✗", Verdict.NOT_CHECKED: "?"}
CSS = {Verdict.HELD: "held", Verdict.NOT_HELD: "broken",
       Verdict.NOT_CHECKED: "unchecked"}


class CitationError(ValueError):
    """A page cites an id no run of it published, or leaves a finding uncited."""


@dataclass
class Published:
    """A claim as a page shows it: which run published it, and when."""

    claim: Claim
    source: str  # the snippet (or notebook) that published it, from the project root
    measured_at: float
    citations: int = 0


@dataclass
class PageClaims:
    page: str  # the page's path from the project root, for messages
    claims: dict[str, Published] = field(default_factory=dict)

    def add(self, claims: list[Claim], source: str, measured_at: float) -> None:
        for claim in claims:
            known = self.claims.get(claim.id)
            if known and known.source != source:
                raise CitationError(
                    f"{self.page}: claim id {claim.id!r} is published by both "
                    f"{known.source} and {source}: ids are unique on a page")
            self.claims[claim.id] = Published(claim, source, measured_at)

    def kind(self, kind: str) -> list[Published]:
        return [p for p in self.claims.values() if p.claim.kind == kind]


def verdict_html(verdict: Verdict) -> str:
    return f'<span class="claim-{CSS[verdict]}">{verdict.word}</span>'


def _title(claim: Claim) -> str:
    why = claim.reason if claim.held is None else claim.evidence
    return html.escape(f"{claim.verdict.word}: {claim.statement} ({why})", quote=True)


def cite(content: str, claims: PageClaims, executed: bool = True) -> str:
    """Render every `claim:` link of a page's HTML; count each claim's citations."""
    def one(match: re.Match) -> str:
        cid, text = match["id"], match["text"]
        if not executed:
            return f'<span class="claim-cite">{text or "(not run in this build)"}</span>'
        published = claims.claims.get(cid)
        if published is None:
            known = ", ".join(sorted(claims.claims)) or "none"
            raise CitationError(f"{claims.page}: cites claim {cid!r}, which no run "
                                f"of this page published (its ids: {known})")
        published.citations += 1
        claim = published.claim
        shown = text or html.escape(claim.value if claim.held is not None
                                    else "not checked here")
        return (f'<a class="claim-cite claim-cite-{CSS[claim.verdict]}" '
                f'id="cite-{cid}-{published.citations}" href="#claim-{cid}" '
                f'title="{_title(claim)}">{shown}<span class="claim-mark" '
                f'aria-hidden="true">{MARK[claim.verdict]}</span></a>')

    return CITATION.sub(one, content)


def uncited(claims: PageClaims) -> list[str]:
    return [p.claim.id for p in claims.kind(FINDING) if not p.citations]


def _rows(published: list[Published]) -> str:
    rows = []
    for p in published:
        c = p.claim
        back = " ".join(f'<a href="#cite-{c.id}-{n}" title="a sentence citing it">'
                        f"{n}</a>" for n in range(1, p.citations + 1)) or "-"
        why = (f'<br><small>{html.escape(c.reason)}</small>'
               if c.held is None else "")
        source = p.source.removeprefix("snippets/")
        rows.append(
            f'<tr id="claim-{c.id}"><td>{html.escape(c.statement)}</td>'
            f"<td>{html.escape(c.evidence)}</td><td>{verdict_html(c.verdict)}{why}"
            f"</td><td>{back}</td><td><code>{html.escape(source)}</code></td></tr>")
    return "\n".join(rows)


def _table(first: str, published: list[Published]) -> str:
    return (f"<table><thead><tr><th>{first}</th><th>Measured</th><th>Result</th>"
            "<th>Cited by</th><th>Program</th></tr></thead><tbody>\n"
            f"{_rows(published)}\n</tbody></table>")


def verified(claims: PageClaims, stamp: str) -> str:
    """The Verified table's HTML, folded under a one-line summary: findings, then
    the demo checks folded again; open where something was not checked."""
    from snippet_runner.render import claims_summary

    findings, checks = claims.kind(FINDING), claims.kind(CHECK)
    every = [p.claim for p in claims.claims.values()]
    intro = ("<p>Every finding below was measured when this page was built and is "
             "cited by the sentences it supports (<em>Cited by</em> links to them). "
             "A finding or check that fails stops the build; one that could not be "
             "measured on the build machine says <em>not checked here</em>, and "
             "why.</p>")
    opened = " open" if any(c.held is not True for c in every) else ""
    fold = (f'<details class="verified-table"{opened}><summary>'
            f"{html.escape(claims_summary(every))}</summary>")
    parts = ['<div class="verified">', intro, fold]
    if findings:
        parts.append(_table("Finding", findings))
    if checks:
        summary = (f'<details class="note"><summary>Demo checks ({len(checks)}): '
                   "the demos did what they say (not findings)</summary>")
        parts += [summary, _table("Check", checks), "</details>"]
    parts += ["</details>", f'<p class="environment-stamp">{stamp}</p>', "</div>"]
    return "\n".join(parts)
