"""The site-wide pages and blocks: the build report, its build-speed section, the
claims of the whole build (`claims.json`), and each page's "Read next".

Links are made with MkDocs' own `get_relative_url`: from one page's URL to another
for HTML written after Markdown (the report), and between source paths for Markdown
that MkDocs then rewrites and checks itself (read next).
"""

from __future__ import annotations

import html
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass, field

from mkdocs.utils import get_relative_url

from snippet_runner import bench
from snippet_runner.claims import PageClaims
from snippet_runner.render import when
from snippets.report import CHECK, FINDING, Verdict

NARROWEST = 8  # findings listed by how close they came to their bound


def environment() -> dict[str, str | int]:
    gil = getattr(sys, "_is_gil_enabled", None)
    return {"python": f"{platform.python_implementation()} "
                      f"{platform.python_version()}",
            "gil": "disabled (free-threaded)" if gil and not gil() else "enabled",
            "kernel": f"{platform.system()} {platform.release()}",
            "machine": platform.machine(), "cores": os.cpu_count() or 1}


def environment_stamp() -> str:
    e = environment()
    return (f"{e['python']} (GIL {e['gil']}) on {e['kernel']} {e['machine']}, "
            f"{e['cores']} cores")


@dataclass
class Record:
    """One run as the build report shows it."""

    kind: str  # "snippet" or "notebook"
    path: str
    page: str  # docs-relative src path of the page
    seconds: float
    cached: bool
    measured_at: float
    verdicts: dict[str, int] = field(default_factory=dict)


def verdict_counts(claims) -> dict[str, int]:
    counts = {v.word: 0 for v in Verdict}
    for c in claims:
        counts[c.verdict.word] += 1
    return counts


def _cell(text: str) -> str:
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def _ran_sentence(ran: int, total: int) -> str:
    if total == 0:
        return "This build had no snippets or notebooks to run."
    if ran == total:
        return f"This build ran all {total} snippets and notebooks."
    if ran == 0:
        return (f"This build ran none of the {total} snippets and notebooks: it "
                "reused the cached result of each.")
    return (f"This build ran {ran} of the {total} snippets and notebooks and reused "
            f"the cached results of the other {total - ran}.")


def build_report(records: list[Record], pages: dict[str, PageClaims],
                 titles: dict[str, str], urls: dict[str, str], here: str,
                 cache_usage: str, bench_file) -> str:
    """The report's Markdown; `urls` maps page src paths to URLs, `here` is the
    report page's own URL."""
    def link(src: str) -> str:
        return f"[{_cell(titles.get(src) or src)}]({get_relative_url(urls[src], here)})"

    rows = [f"| `{r.path.removeprefix('snippets/')}` | {link(r.page)} | "
            f"{r.seconds:.1f} s | {'cached' if r.cached else '**ran now**'} | "
            f"{when(r.measured_at)} | "
            + (", ".join(f"{n} {w}" for w, n in r.verdicts.items() if n) or "-") + " |"
            for r in records]
    total = sum(r.seconds for r in records)
    ran = sum(not r.cached for r in records)
    claims_url = get_relative_url("claims.json", here)
    return (
        f"{_ran_sentence(ran, len(records))} Their run times add up to {total:.1f} s "
        "(for a cached one, the time of the run that made the cached result). "
        f"Built with {html.escape(environment_stamp())}. {cache_usage}"
        "\n\n| Program | Page | Run time | This build | Measured | Claims |\n"
        "|---|---|---:|---|---|---|\n" + "\n".join(rows) + "\n"
        + _claims_section(pages, link, claims_url)
        + bench_section(bench_file))


def _claims_section(pages: dict[str, PageClaims], link, claims_url: str) -> str:
    rows, near = [], []
    for src, page in pages.items():
        findings, checks = page.kind(FINDING), page.kind(CHECK)
        cited = sum(p.citations for p in page.claims.values())
        rows.append(f"| {link(src)} | {len(findings)} | {len(checks)} | {cited} |")
        near += [(p.claim.margin, src, p) for p in findings
                 if p.claim.margin is not None]
    near.sort(key=lambda item: item[0])
    close = [f"| {link(src)} | {_cell(p.claim.statement)} | {_cell(p.claim.evidence)}"
             f" | {margin:+.0%} |" for margin, src, p in near[:NARROWEST]]
    return (
        "\n## Claims\n\nA *finding* is a statement about the systems a page explains "
        "that could come out otherwise elsewhere; a *check* confirms a demo did what "
        "it says. Every claim of this build, with its measured value, bound, verdict "
        f"and citations, is in [claims.json]({claims_url}).\n\n"
        "| Page | Findings | Demo checks | Citations |\n|---|---:|---:|---:|\n"
        + "\n".join(rows) + "\n\n### Closest to their bounds\n\nThe findings whose "
        "measured value came nearest to the bound they must meet (the margin is "
        "the distance to the bound, as a share of the bound):\n\n"
        "| Page | Finding | Measured | Margin |\n|---|---|---|---:|\n"
        + "\n".join(close) + "\n")


def bench_section(path) -> str:
    """The figures of the last `make bench` on this machine, if there is one."""
    if not path.is_file():
        return ("\n## Build speed\n\nNo `make bench` has been run on this "
                "machine yet, so there are no build-speed figures to show.\n")
    result = json.loads(path.read_text())
    rows = "\n".join(f"| {name} | {seconds:.2f} s | {ratio:.2f}x |"
                     for name, seconds, ratio in bench.summary(result))
    phase = result.get("parallel phase", {})
    walls, sums = phase.get("wall", []), phase.get("serial sum", [])
    parallel = (f" In the cold build, {phase['snippets']} snippets ran side by "
                f"side in {statistics.median(walls):.1f} s of wall time; run one "
                f"after another they took {statistics.median(sums):.1f} s."
                if walls and sums else "")
    return ("\n## Build speed\n\nMeasured by `make bench` "
            f"{when(result.get('measured_at', 0))} on "
            f"{html.escape(result.get('machine', ''))}: medians of several runs, "
            "and each as a multiple of the build with execution off. A reload "
            "is timed from writing the edit until `mkdocs serve` serves the "
            f"page with it.{parallel}\n\n| What | Median | vs execution off |\n"
            f"|---|---:|---:|\n{rows}\n")


def read_next(src: str, meta: dict, titles: dict[str, str]) -> str:
    """Markdown: the pages the page's front matter picks to read next, each with
    the reason it gives (`read_next: [{page: episodes/x.md, why: ...}]`)."""
    picks = meta.get("read_next") or []
    lines = []
    for pick in picks:
        if not isinstance(pick, dict) or not {"page", "why"} <= set(pick):
            raise ValueError(f"{src}: each read_next entry needs page and why")
        title = titles.get(pick["page"], pick["page"])
        lines.append(f"- [{title}]({get_relative_url(pick['page'], src)}): "
                     f"{pick['why']}")
    if not lines:
        return ""
    topics = (f"\n\nAll pages by topic: [Topics]({get_relative_url('topics.md', src)})."
              if "topics.md" in titles else "")
    return "\n\n## Read next\n\n" + "\n".join(lines) + topics + "\n"


def claims_json(pages: dict[str, PageClaims], urls: dict[str, str]) -> str:
    """Every claim of the build, for readers and for `make compare`."""
    out = []
    for src, page in pages.items():
        for p in page.claims.values():
            c = p.claim
            out.append({"id": c.id, "page": src, "url": urls.get(src, ""),
                        "snippet": p.source, "module": c.module, "kind": c.kind,
                        "statement": c.statement, "measured": c.to_json()["measured"],
                        "unit": c.unit, "bound": c.bound.to_json(),
                        "bound_text": c.bound.words(c.unit, c.fmt),
                        "value": c.value, "evidence": c.evidence,
                        "verdict": c.verdict.word, "reason": c.reason,
                        "margin": c.margin, "timing": c.timing,
                        "citations": p.citations, "measured_at": p.measured_at})
    return json.dumps({"environment": environment(), "claims": out}, indent=1)
