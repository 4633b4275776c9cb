"""Create the four pieces of a new episode page: page, snippet package, test, nav entry.

    python -m snippet_runner.scaffold <slug> "<Episode title>" [<first demo name>]

The demo it writes raises NotImplementedError, so the build and the tests fail until
the measurement is real: a scaffold is never mistaken for a finished page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEMO = '''"""<One sentence: the claim this demo proves.>"""

from __future__ import annotations

from snippets.report import Claim, publish, table


def measure() -> dict[str, float]:
    """Measure something real and return it (no printing here)."""
    raise NotImplementedError("write the measurement for {module}")


def claims(result: dict[str, float]) -> list[Claim]:
    return [Claim("<what must hold>", f"<evidence from {{result}}>", False)]


def main() -> None:
    result = measure()
    print(table(["what", "value"], [[k, v] for k, v in result.items()]))
    publish(claims(result))


if __name__ == "__main__":
    main()
'''

TEST = '''from snippets.report import explain, failed
from snippets.{package} import {demo}


def test_{demo}_claims_hold():
    bad = failed({demo}.claims({demo}.measure()))
    assert not bad, explain(bad)
'''

PAGE = '''# {title}

*Episode of <date>, <length>.* <Two or three sentences, in our own words: what the
episode argues.>

## <First idea>

<One sentence: what to look at in the listing.>

```snippet
path: snippets/{package}/{demo}.py
```

<One sentence: what the output proves. No typed-in numbers: cite a source or let the
run print them.>
'''


def scaffold(slug: str, title: str, demo: str = "demo",
             root: Path = ROOT) -> list[Path]:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug):
        raise SystemExit(f"slug must look like 'kernel-calls', got {slug!r}")
    package = slug.replace("-", "_")
    files = {
        root / "docs" / "episodes" / f"{slug}.md": PAGE.format(
            title=title, package=package, demo=demo),
        root / "snippets" / package / "__init__.py": f'"""{title}."""\n',
        root / "snippets" / package / f"{demo}.py": DEMO.format(
            module=f"snippets.{package}.{demo}"),
        root / "tests" / f"test_{package}.py": TEST.format(package=package, demo=demo),
    }
    existing = [p for p in files if p.exists()]
    if existing:
        raise SystemExit(f"already there, not overwritten: {existing[0]}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    anchor = "  - Episodes:\n"
    entry = f"      - {title}: episodes/{slug}.md\n"
    if anchor in text and entry not in text:
        config.write_text(text.replace(anchor, anchor + entry, 1), encoding="utf-8")
    return [*files, config]


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    for path in scaffold(*argv):
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
