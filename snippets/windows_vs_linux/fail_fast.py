"""Each failure the kernel decides on this machine (a route that rules the address
out, no route, a closed port) returns about as fast as a successful loopback
connect: the client's kernel neither retries nor waits."""

from __future__ import annotations

import socket
import statistics
import time

from snippets import netns
from snippets.measure import check_timing
from snippets.report import (
    Claim,
    NotMeasurable,
    below,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.windows_vs_linux.errnos import ROUTES, route_commands

ROUNDS = 21
LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
FAMILY = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}
TCP, UDP = socket.SOCK_STREAM, socket.SOCK_DGRAM
WAYS = [(f, k) for f in LOOPBACK for k in (TCP, UDP)]  # TCP/IPv4, UDP/IPv4, ...
KINDS = {**{kind: (f"a route of type {kind}", WAYS, "TCP and UDP") for kind in ROUTES},
         "no route": ("no route at all", WAYS, "TCP and UDP"),
         "closed port": ("a closed port", [(f, TCP) for f in LOOPBACK], "TCP"),
         "UDP to a closed port": ("UDP to a closed port",
                                  [(f, UDP) for f in LOOPBACK], "UDP")}
FAST = {kind: finding(f"fast-{kind.lower().replace(' ', '-')}", f"{what} ({how}, IPv4 "
                      "and IPv6): the slowest way fails in {bound} a successful "
                      "loopback connect", below(5), unit="x", fmt=".2f", timing=True)
        for kind, (what, _, how) in KINDS.items()}
FAILED = check("fast-all-failed", "timed attempts that did not fail: {bound}",
               equals(0))


def name(way) -> str:
    return f"{'UDP' if way[1] == UDP else 'TCP'}/{FAMILY[way[0]]}"


def attempt(fam, kind, addr) -> tuple[float, bool]:
    """Seconds until connect() (and, for UDP, the next recv) fails; failed or not."""
    with socket.socket(fam, kind) as s:
        s.settimeout(1.0)
        t0 = time.perf_counter()
        try:
            s.connect(addr)
            if kind == UDP:  # connected UDP: the ICMP error comes back on recv
                s.send(b"?")
                s.recv(16)
        except OSError:
            return time.perf_counter() - t0, True
        return time.perf_counter() - t0, False


def rounds() -> dict:
    """Interleaved rounds: a successful connect per family, then every failure."""
    base = {f: [] for f in LOOPBACK}
    times = {(kind, way): [] for kind, (_, ways, _) in KINDS.items()
             for way in ways}
    missed = 0
    with socket.create_server(("127.0.0.1", 0)) as v4, socket.create_server(
            ("::1", 0), family=socket.AF_INET6) as v6:
        for _ in range(ROUNDS):
            for fam, srv in ((v4.family, v4), (v6.family, v6)):
                base[fam].append(attempt(fam, TCP, srv.getsockname()[:2])[0])
                srv.accept()[0].close()
            for (kind, (fam, sock)), runs in times.items():
                host = (ROUTES[kind][fam == socket.AF_INET6] if kind in ROUTES
                        else LOOPBACK[fam])
                seconds, failed = attempt(fam, sock, (host, 9))
                runs.append(seconds)
                missed += not failed
    return {"base_us": {FAMILY[f]: statistics.median(b) * 1e6 for f, b in base.items()},
            "ratio": {(kind, name(way)): statistics.median(
                t / b for t, b in zip(runs, base[way[0]], strict=True))
                for (kind, way), runs in times.items()}, "missed": missed}


def measure() -> dict:
    return netns.run(rounds, routes=route_commands())


def claims(r: dict) -> list[Claim]:
    return [*(FAST[kind].of(max(v for (k, _), v in r["ratio"].items() if k == kind))
              for kind in KINDS), FAILED.of(r["missed"])]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured([*FAST.values(), FAILED], why)
    r = checked.result
    cols = [name(way) for way in WAYS]
    print(table(["failure, time vs a connect", *cols],
                [[kind, *(f"{r['ratio'][kind, c]:.2f}x" if (kind, c) in r["ratio"]
                          else "-" for c in cols)] for kind in KINDS]))
    print("a successful loopback connect (median): " + ", ".join(
        f"{us:.0f} µs ({fam})" for fam, us in r["base_us"].items()))
    publish(checked.claims)


if __name__ == "__main__":
    main()
