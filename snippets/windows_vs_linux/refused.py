"""On Linux a connect() to a closed port on a live host is refused at once: about as
fast as a successful connect, over 127.0.0.1 and ::1 alike."""

from __future__ import annotations

import errno
import socket
import statistics
import time

from snippets.measure import check_timing
from snippets.report import Claim, publish, table

ROUNDS = 200
MARGIN = 5  # refused may cost up to 5x a successful connect (it is ~1x)


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
                "outcomes": sorted({o for _, o in v})} for k, v in runs.items()}


def measure() -> dict:
    return {host: family(host) for host in ("127.0.0.1", "::1")}


def claims(r: dict) -> list[Claim]:
    out = []
    for host, v in r.items():
        statement = (f"{host}: every connect to a closed port fails with ECONNREFUSED"
                     f" within {MARGIN}x the median time of a successful connect")
        if v is None:
            out.append(Claim.not_checked(statement, f"{host} cannot be bound here"))
            continue
        ratio = v["refused"]["median_us"] / v["connected"]["median_us"]
        out.append(Claim(statement, f"{v['refused']['outcomes']}, {ratio:.1f}x",
                         v["refused"]["outcomes"] == ["ECONNREFUSED"]
                         and v["connected"]["outcomes"] == ["connected"]
                         and ratio < MARGIN, timing=True))
    return out


def main() -> None:
    checked = check_timing(measure, claims)
    rows = [[host, kind, f"{v[kind]['median_us']:.0f}", ", ".join(v[kind]["outcomes"])]
            for host, v in checked.result.items() if v for kind in v]
    print(table(["address", "port", "median µs", "outcome"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
