"""io_combine_limit exists from PostgreSQL 17: 16 blocks (128 kB) by default, at most
32 in 17 and 128 in 18, where io_max_combine_limit caps it; read from each server."""

from __future__ import annotations

from snippets import report
from snippets.pg_server import Server
from snippets.postgres_io_combining import _scan as scan
from snippets.report import check, equals, finding

NAMES = ("block_size", "io_combine_limit", "io_max_combine_limit", "io_method",
         "effective_io_concurrency")
QUERY = ("SELECT name, setting, coalesce(min_val, '-'), coalesce(max_val, '-'), "
         "context FROM pg_settings WHERE name IN ({}) ORDER BY name")

PAGE = finding("block-size", "every server reads and writes pages of {bound}",
               equals([8192]), unit="bytes")
SINCE = finding("combine-since-17", "the servers that have io_combine_limit: {bound}",
                equals(list(scan.COMBINING)))
RANGE = {major: finding(f"pg{major}-combine-range", f"PostgreSQL {major}'s "
                        "io_combine_limit (default, min, max): {bound}",
                        equals(expected), unit="blocks of 8 kB")
         for major, expected in ((17, [16, 1, 32]), (18, [16, 1, 128]))}
CAP = finding("pg18-max-combine", "PostgreSQL 18's io_max_combine_limit (default, "
              "max, when it can change): {bound}", equals([16, 128, "postmaster"]))
SAME = check("one-compiler", "distinct compilers the servers name in version(): "
             "{bound}", equals(1))
IOS = finding("io-concurrency-defaults", "effective_io_concurrency by default, "
              "15 to 18: {bound}", equals([1, 1, 1, 16]))
EVERY = [SAME, PAGE, SINCE, *RANGE.values(), CAP, IOS]


def read(major: int) -> dict:
    with Server(major) as pg:  # every setting at its default
        names = ", ".join(f"'{n}'" for n in NAMES)
        rows = [line.split("|") for line in pg.sql(QUERY.format(names))]
        version = pg.server_version()
        built = pg.sql("SELECT version()")[0].split("compiled by ", 1)[-1]
    return {"version": version, "built": built,
            "settings": {r[0]: r[1:] for r in rows}}


def measure() -> dict:
    return scan.each_version(read)


def number(r: dict, major: int, name: str, column: int = 0) -> int | str:
    value = r[major]["settings"][name][column]
    return int(value) if value.lstrip("-").isdigit() else value


def claims(r: dict) -> list[report.Claim]:
    has = [m for m in r if "io_combine_limit" in r[m]["settings"]]
    return [SAME.of(len({r[m]["built"] for m in r}),
                    detail=", ".join(sorted({r[m]["built"] for m in r}))),
            PAGE.of(sorted({number(r, m, "block_size") for m in r})),
            SINCE.of(has),
            *(RANGE[m].of([number(r, m, "io_combine_limit", c) for c in range(3)])
              for m in RANGE),
            CAP.of([number(r, 18, "io_max_combine_limit", c) for c in (0, 2, 3)]),
            IOS.of([number(r, m, "effective_io_concurrency") for m in sorted(r)])]


def cell(settings: dict, name: str) -> str:
    """'16 (1..32)': the default and, for a size in blocks, its range; '-' if absent."""
    if name not in settings:
        return "-"
    setting, low, high, _ = settings[name]
    return f"{setting} ({low}..{high})" if name.startswith("io_") and low != "-" \
        else setting


def main() -> None:
    try:
        r = measure()
    except report.NotMeasurable as why:
        return report.publish_unmeasured(EVERY, why)
    rows = [[got["version"], *(cell(got["settings"], name) for name in NAMES[1:])]
            for got in r.values()]
    print("compiled by:", " / ".join(sorted({got["built"] for got in r.values()})),
          "\n")
    print(report.table(["server", *NAMES[1:]], rows))
    report.publish(claims(r))


if __name__ == "__main__":
    main()
