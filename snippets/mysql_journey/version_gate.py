"""A version gate: flag the MySQL releases with the many-tables restart crash and say
what to upgrade to (MySQL's release notes; the 8.4 line's fix from Percona's notes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from snippets.report import Claim, check, equals, publish, table

NOTES = "https://dev.mysql.com/doc/relnotes/mysql"
# affected release: (fixed in, where that is written down)
AFFECTED = {
    (8, 0, 38): ((8, 0, 39), f"{NOTES}/8.0/en/news-8-0-38.html"),
    (8, 4, 1): ((8, 4, 2), "Percona Server 8.4.1 and 8.4.2-2 release notes"),
    (9, 0, 0): ((9, 0, 1), f"{NOTES}/9.7/en/news-9-0-1.html"),
}  # each: the server may not restart after 8,001 or more tables


@dataclass(frozen=True)
class Verdict:
    version: str  # "" when no MySQL version was found
    ok: bool  # False: do not run this, or do not upgrade to it blindly
    advice: str


def dotted(v: tuple[int, ...]) -> str:
    return ".".join(map(str, v))


def gate(text: str) -> Verdict:
    """Judge a version string as `SELECT VERSION()` or `mysqld --version` print it."""
    if "mariadb" in text.lower():
        return Verdict("", True, "MariaDB: a fork with its own releases, not judged")
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if not found:
        return Verdict("", False, "no MySQL version found")
    version = tuple(int(n) for n in found.groups())
    if version in AFFECTED:
        fixed, _ = AFFECTED[version]
        return Verdict(dotted(version), False,  # may not restart after 8,001+ tables
                       f"affected: upgrade to {dotted(fixed)} or later")
    for bad, (fixed, _) in AFFECTED.items():
        if version[:2] == bad[:2] and version < bad:
            return Verdict(dotted(version), True,
                           f"not affected; upgrade straight to {dotted(fixed)} "
                           f"or later, skipping {dotted(bad)}")
    return Verdict(dotted(version), True, "not one of the affected releases")


EXAMPLES = [  # (what a server prints, the verdict we expect: ok?)
    ("8.0.37", True),
    ("8.0.38-log", False),
    ("mysqld  Ver 8.0.38 for Linux", False),
    ("8.4.1", False),
    ("8.4.2", True),
    ("9.0.0", False),
    ("10.11.18-MariaDB-0+deb12u1", True),
    ("unknown", False),
]


GATE = check("gate-examples", "the gate gives the expected verdict for {bound} "
             "example version strings", equals(len(EXAMPLES)))


def measure() -> list[tuple[str, Verdict]]:
    return [(text, gate(text)) for text, _ in EXAMPLES]


def claims(results: list[tuple[str, Verdict]]) -> list[Claim]:
    expected = dict(EXAMPLES)
    right = sum(v.ok == expected[text] for text, v in results)
    return [GATE.of(right)]


def main() -> None:
    results = measure()
    print(table(["version string", "ok?", "advice"],
                [[text, "yes" if v.ok else "NO", v.advice] for text, v in results]))
    publish(claims(results))


if __name__ == "__main__":
    main()
