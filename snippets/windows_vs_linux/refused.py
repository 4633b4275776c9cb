"""On Linux a connect() to a closed port on a live host is refused at once: about as
fast as a successful connect, over 127.0.0.1 and ::1 alike."""

from __future__ import annotations

import errno
import socket
import statistics
import time

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    HostForbids,
    below,
    check,
    equals,
    finding,
    publish,
    table,
)

ROUNDS = 200
HOSTS = {"127.0.0.1": "v4", "::1": "v6"}
ERRNO = {v: finding(f"refused-{v}", "{host}: every connect to a closed port fails "
                    "with {bound}", equals("ECONNREFUSED")) for v in HOSTS.values()}
SPEED = {v: finding(f"refused-{v}-speed", "{host}: a refused connect takes {bound} "
                    "the median time of a successful one", below(5), unit="x",
                    fmt=".1f", timing=True) for v in HOSTS.values()}
SERVED = {v: check(f"live-port-{v}", "{host}: every connect to the listening port "
                   "connected", equals("connected")) for v in HOSTS.values()}


def connect_once(addr) -> tuple[float, str]:
    with socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET) as c:
        t0 = time.perf_counter()
        try:
            c.connect(addr)
            outcome = "connected"
        except OSError as exc:
            outcome = errno.errorcode.get(exc.errno, str(exc))
        return time.perf_counter() - t0, outcome


def family(host: str) -> dict | None:
    """Interleaved: refused (a bound port that does not listen) and a real connect."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        closed, srv = socket.socket(fam), socket.create_server((host, 0), family=fam)
    except OSError:
        return None  # no ::1 here
    with closed, srv:
        closed.bind((host, 0))  # holds the port, never listens: the kernel resets
        runs = {"refused": [], "connected": []}
        for _ in range(ROUNDS):
            for kind, addr in (("refused", closed.getsockname()),
                               ("connected", srv.getsockname())):
                runs[kind].append(connect_once(addr[:2]))
                if kind == "connected":
                    srv.accept()[0].close()
    return {k: {"median_us": statistics.median(t for t, _ in v) * 1e6,
                "outcomes": ", ".join(sorted({o for _, o in v}))}
            for k, v in runs.items()}


def measure() -> dict:
    return {host: family(host) for host in HOSTS}


def claims(r: dict) -> list[Claim]:
    out = []
    for host, v in r.items():
        tag = HOSTS[host]
        if v is None:
            why = HostForbids(f"{host} cannot be bound here")
            out += [e.not_checked(why, host=host) for e in (ERRNO[tag], SPEED[tag])]
            continue
        ratio = v["refused"]["median_us"] / v["connected"]["median_us"]
        out += [ERRNO[tag].of(v["refused"]["outcomes"], host=host),
                SPEED[tag].of(ratio, host=host),
                SERVED[tag].of(v["connected"]["outcomes"], host=host)]
    return out


def main() -> None:
    checked = check_timing(measure, claims)
    rows = [[host, kind, f"{v[kind]['median_us']:.0f}", v[kind]["outcomes"]]
            for host, v in checked.result.items() if v for kind in v]
    print(table(["address", "port", "median µs", "outcome"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
