"""Create a new episode page that builds and tests green at once.

    python -m snippet_runner.scaffold <slug> "<Episode title>" [<first demo name>]
    make page SLUG=ephemeral-ports TITLE="Running out of TCP ephemeral source ports"

It writes the page, the snippet package with one demo, the test file, the nav entry
under *Episodes*, an entry in the `topics:` list of the snippets-runner plugin, and
the page's link in the episode table on the home page. The demo measures nothing
yet, so its one finding is *not checked here*, with the reason "not written yet:
...": the build warns, the test skips with that reason, and nothing claims to hold
until a real measurement replaces it. The page already cites the finding and the
test already has its counter-case. A scaffold is never mistaken for a finished page.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEMO = '''"""<One sentence: the claim this demo proves.>"""

from __future__ import annotations

from snippets.report import Claim, above, finding, publish, table

# A finding: something about the system that could come out otherwise on another
# kernel, version or machine, with its bound written once. (A `check(...)` only
# confirms the demo did what it says.) The page cites it: [](claim:<its id>).
FIRST = finding("{demo}-first", "<what must hold>: {{bound}}", above(1), unit="x")
NOT_WRITTEN = ("not written yet: measure something real in "
               "{path}")


def measure() -> dict[str, float]:
    """Measure something real and return it (no printing here)."""
    return {{}}


def claims(result: dict[str, float]) -> list[Claim]:
    # Replace with FIRST.of(<a value measured in `result`>) once measured.
    return [FIRST.not_checked(NOT_WRITTEN)]


def main() -> None:
    result = measure()
    print(table(["what", "value"], [[k, v] for k, v in result.items()]))
    publish(claims(result))


if __name__ == "__main__":
    main()
'''

TEST = '''"""{title}: each demo's claims hold when its functions run here."""

from __future__ import annotations

from claimcheck import check, counter_case, refute

from snippets.{package} import {demo}


def test_{demo}_claims_hold():
    # Skips with the reason ("not written yet: ...") while a claim is not checked.
    check({demo}.claims({demo}.measure()))


@counter_case("{demo}-first")
def test_a_system_that_behaves_otherwise_breaks_the_finding():
    # Feed the finding a plausible result from a system that behaves otherwise and
    # see it come out not held (here: the bound itself, until claims() measures).
    refute([{demo}.FIRST.of(0.5)], "{demo}-first")
'''

PAGE = '''# {title}

*The Backend Engineering Show* · episode of **Mon D, YYYY** · N min

Two or three sentences, in our own words: what the episode argues. Follow the
episode's own outline (its show notes or chapters).

## First idea

One sentence: what to look at in the listing.

```snippet
path: snippets/{package}/{demo}.py
```

One sentence: what the output proves, citing the finding that checks it: it
measured [](claim:{demo}-first). A number from a run is a citation, never typed;
any other figure links to its public source.
'''

TOPICS_ANCHOR = re.compile(r"^(?P<indent>[ \t]+)topics:[ \t]*\n", re.MULTILINE)
TABLE_RULE = "|---|---|---|---|\n"


def add_nav_entry(text: str, title: str, slug: str) -> str:
    anchor = "  - Episodes:\n"
    entry = f"      - {_yaml_key(title)}: episodes/{slug}.md\n"
    if anchor not in text:
        raise SystemExit("mkdocs.yml has no '  - Episodes:' section in its nav")
    return text if entry in text else text.replace(anchor, anchor + entry, 1)


def add_topics_entry(text: str, slug: str) -> str:
    """Give the page an (empty) entry in the plugin's one list of topics."""
    found = TOPICS_ANCHOR.search(text)
    key = f"episodes/{slug}.md:"
    if not found or key in text[found.end():]:
        return text
    entry = f"{found['indent']}  {key} []  # fill in: topics shared with other pages\n"
    return text[:found.end()] + entry + text[found.end():]


def add_home_link(text: str, title: str, slug: str) -> str:
    """Link the episode in the table on the home page: its own row if it has one."""
    link = f"[{title}](episodes/{slug}.md)"
    if f"(episodes/{slug}.md)" in text:
        return text
    row = re.compile(rf"^(\|[^|\n]*\|\s*){re.escape(title)}(\s*\|)", re.MULTILINE)
    if row.search(text):
        return row.sub(lambda m: m[1] + link + m[2], text, count=1)
    if TABLE_RULE not in text:
        raise SystemExit("docs/index.md has no episode table to link the page from")
    new_row = f"| YYYY-MM-DD | {link} | What the page shows, in one line | N min |\n"
    return text.replace(TABLE_RULE, TABLE_RULE + new_row, 1)


def _yaml_key(title: str) -> str:
    """The title as a YAML key: quoted (a JSON string is valid YAML) when needed."""
    plain = re.fullmatch(r"[A-Za-z0-9(][^:#\"'{}\[\],&*!|>%@`]*", title)
    return title if plain else json.dumps(title)


def scaffold(slug: str, title: str, demo: str = "demo",
             root: Path = ROOT) -> list[Path]:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        raise SystemExit(f"slug must look like 'kernel-calls', got {slug!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", demo):
        raise SystemExit(f"demo must be a module name like 'exhaust', got {demo!r}")
    if not title.strip() or "\n" in title:
        raise SystemExit("TITLE must be one line, e.g. TITLE=\"Running out of ports\"")
    package = slug.replace("-", "_")
    demo_path = f"snippets/{package}/{demo}.py"
    files = {
        root / "docs" / "episodes" / f"{slug}.md": PAGE.format(
            title=title, package=package, demo=demo),
        root / "snippets" / package / "__init__.py": f'"""{title}."""\n',
        root / demo_path: DEMO.format(path=demo_path, demo=demo),
        root / "tests" / f"test_{package}.py": TEST.format(
            title=title, package=package, demo=demo),
    }
    existing = [p for p in files if p.exists()]
    if existing:
        raise SystemExit(f"already there, not overwritten: {existing[0]}")
    config, home = root / "mkdocs.yml", root / "docs" / "index.md"
    # Work out every edit first, so a refusal leaves the project untouched.
    config_text = add_topics_entry(
        add_nav_entry(config.read_text(encoding="utf-8"), title, slug), slug)
    home_text = add_home_link(home.read_text(encoding="utf-8"), title, slug)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    config.write_text(config_text, encoding="utf-8")
    home.write_text(home_text, encoding="utf-8")
    return [*files, config, home]


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3) or not all(argv):
        raise SystemExit(__doc__)
    for path in scaffold(*argv):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
