"""pgbench select-only, PostgreSQL 18 against 15 in interleaved rounds: the ratio's
spread is shown, and which is faster is claimed only when every round agrees."""

from __future__ import annotations

import re
import statistics
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from snippets import measure as timing
from snippets import report
from snippets.pg_server import Server, version
from snippets.report import between, finding

TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.MULTILINE)
WITHIN = finding("pgbench-within-2x", "PostgreSQL 18's select-only pgbench throughput "
                 "is {bound} PostgreSQL 15's (median of paired rounds)",
                 between(0.5, 2), unit="x", fmt=".2f", timing=True)


def bench(client: Server, server: Server, transactions: int) -> float:
    """Transactions per second of one select-only run (one client, one thread)."""
    out = client.run("pgbench", "-h", str(server.sock), "-U", "postgres", "-n",
                     "-S", "-c", "1", "-t", str(transactions), "postgres")
    return float(TPS.search(out)[1])


def blocks_read(pg: Server) -> int:
    """Blocks this database has read from files (not found in shared buffers)."""
    return int(pg.sql("SELECT blks_read FROM pg_stat_database "
                      "WHERE datname = 'postgres'")[0])


def measure(rounds: int = 5, transactions: int = 500) -> dict:
    """Interleaved rounds, pgbench and both servers on one core (see one_core)."""
    with timing.one_core(), ExitStack() as stack, ThreadPoolExecutor(2) as setup:  # untimed: at once
        pg18, pg15 = setup.map(lambda v: stack.enter_context(Server(v)), (18, 15))
        list(setup.map(lambda pg: pg18.run(  # one client binary: only servers differ
            "pgbench", "-h", str(pg.sock), "-U", "postgres", "-i", "-q", "-s", "1",
            "postgres"), (pg18, pg15)))
        asserts = [pg.sql("SHOW debug_assertions")[0] for pg in (pg15, pg18)]
        before = [blocks_read(pg) for pg in (pg15, pg18)]
        tps: dict[str, list[float]] = {"PG15": [], "PG18": []}
        for _ in range(rounds):
            for name, pg in (("PG15", pg15), ("PG18", pg18)):
                tps[name].append(bench(pg18, pg, transactions))
        read = [blocks_read(pg) - b for pg, b in zip((pg15, pg18), before)]
    ratios = [b / a for a, b in zip(tps["PG15"], tps["PG18"])]
    return {"versions": [version(15), version(18)], "tps": tps, "ratios": ratios,
            "asserts": asserts, "blocks_read": read,
            "transactions": 2 * rounds * transactions}


def claims(r: dict) -> list[report.Claim]:
    ratios = r["ratios"]
    return [WITHIN.of(statistics.median(ratios),
                      detail=f"rounds {min(ratios):.2f}x..{max(ratios):.2f}x")]


def winner(ratios: list[float]) -> str:
    """Which server won, said only when every interleaved round agrees."""
    if min(ratios) > 1 or max(ratios) < 1:
        return f"{'PG18' if min(ratios) > 1 else 'PG15'} was faster in every round"
    return "the rounds disagree: no winner can be named from these runs"


def main() -> None:
    try:
        checked = timing.check_timing(measure, claims)
    except report.NotMeasurable as why:
        return report.publish_unmeasured([WITHIN], why)
    r = checked.result
    print("servers:", ", ".join(r["versions"]), "- debug_assertions:",
          ", ".join(r["asserts"]), "- pgbench -S -c 1 (PG18's pgbench)\n")
    rows = [[i, f"{a:,.0f}", f"{b:,.0f}", f"{b / a:.2f}"] for i, (a, b) in
            enumerate(zip(r["tps"]["PG15"], r["tps"]["PG18"]), 1)]
    print(report.table(["round", "PG15 tps", "PG18 tps", "PG18/PG15"], rows))
    print(f"\nblocks read from files during the {r['transactions']} transactions: "
          f"PG15 {r['blocks_read'][0]}, PG18 {r['blocks_read'][1]}")
    print(f"which is faster: {winner(r['ratios'])}")
    report.publish(checked.claims)


if __name__ == "__main__":
    main()
