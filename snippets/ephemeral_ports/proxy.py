"""A proxy that opens a new upstream connection per request runs out of source ports
under a bounded load, leaving every one in TIME_WAIT, and answers 502
(EADDRNOTAVAIL); a small pool of kept-alive upstream connections serves the same
load with a handful of ports."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import socket
import threading
import time
from dataclasses import dataclass

from snippets.ephemeral_ports._ports import each_in_namespace, sockets
from snippets.report import (
    Claim,
    NotMeasurable,
    at_most,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.svg import PALETTE, line_chart

LOW, HIGH = 40000, 40015  # 16 ports for the proxy's upstream connections
PORTS = HIGH - LOW + 1
PROXY, UPSTREAM = ("127.0.0.1", 5000), ("127.0.0.1", 6000)
CLIENTS, REQUESTS = 4, 12  # 4 keep-alive clients, 12 requests each
N = CLIENTS * REQUESTS
CASES = {"new connection per request": (False,), "pool": (True,)}

ANSWERED = check("all-answered", f"both proxies answered all {N} requests",
                 equals([N, N]))
PASSES = finding("per-request-passes", "with a new upstream connection per request, "
                 f"{{bound}} of {N} requests pass: one per source port", equals(PORTS))
FULL = finding("per-request-time-wait", "after the load, once the backend has closed "
              "its side, {bound} of the proxy's upstream ports sit in TIME_WAIT",
              equals(PORTS))
STAYS_OUT = finding("per-request-stays-out", "once a request failed, {bound} later "
                    "requests pass (their ports stay in TIME_WAIT)", equals(0))
ERROR = finding("per-request-error", "every failed request gets {bound}",
                equals(f"502 {os.strerror(errno.EADDRNOTAVAIL)}"))
POOL_PASSES = check("pool-passes", f"with a pool, {{bound}} of {N} requests pass",
                    equals(N))
POOL_PORTS = finding("pool-ports", "the pool holds {bound} upstream ports (one per "
                     "concurrent client)", at_most(CLIENTS))
ALL = [ANSWERED, PASSES, FULL, STAYS_OUT, ERROR, POOL_PASSES, POOL_PORTS]


@dataclass(frozen=True)
class Run:
    replies: list[str]  # what the clients read, one line per request
    log: list[tuple[bool, int, int]]  # per upstream connect: got one?, ports held,
    # how many of them in TIME_WAIT
    after: list[str]  # the states of the upstream sockets once the closes settled


def serve(listener: socket.socket, handle) -> None:
    """Accept until the listener closes; one thread per connection, line by line."""
    def lines(conn: socket.socket) -> None:
        with conn, conn.makefile("rwb", buffering=0) as f:
            for line in f:
                f.write(handle(line))
    with contextlib.suppress(OSError):
        while True:
            threading.Thread(target=lines, args=(listener.accept()[0],),
                             daemon=True).start()


def proxy_handler(pooled: bool, log: list):
    """The proxy's request handler; `log` gets (upstream ok?, ports held, ports in
    TIME_WAIT) per request, in the order the proxy took its upstream connections."""
    idle: queue.SimpleQueue = queue.SimpleQueue()
    lock = threading.Lock()

    def upstream() -> socket.socket | OSError:
        """An idle pooled connection, else a new one, else the error of connect()."""
        with lock:  # one upstream connect at a time, so the log's order is exact
            try:
                up = idle.get_nowait()
            except queue.Empty:
                try:
                    up = socket.create_connection(UPSTREAM, timeout=2)
                except OSError as exc:
                    up = exc
            states = upstream_states()
            log.append((isinstance(up, socket.socket), len(states),
                        states.count("TIME_WAIT")))
        return up

    def handle(line: bytes) -> bytes:
        up = upstream()
        if isinstance(up, OSError):  # what the user sees: a 502 naming the errno
            return f"502 {os.strerror(up.errno)}\n".encode()
        up.sendall(line)
        reply = up.makefile("rb").readline()
        if pooled:
            idle.put(up)
        else:
            up.close()  # the proxy closes first: the TIME_WAIT is on its port
        return reply
    return handle


def client(index: int, replies: list) -> None:
    with socket.socket() as c:
        c.bind(("127.0.0.1", 7000 + index))  # fixed, outside the range
        c.connect(PROXY)
        f = c.makefile("rwb", buffering=0)
        for _ in range(REQUESTS):
            f.write(b"GET /\n")
            replies.append(f.readline().decode().strip())


def upstream_states(settle: float = 0.0) -> list[str]:
    """The state of each proxy-side upstream socket holding a port; with `settle`,
    first wait (that long at most) for every close under way to finish."""
    end = time.monotonic() + settle
    while True:
        states = [s.state for s in sockets()
                  if LOW <= s.local_port <= HIGH and s.remote_port == UPSTREAM[1]]
        closing = {"FIN_WAIT1", "FIN_WAIT2", "CLOSING", "LAST_ACK"} & set(states)
        if not closing or time.monotonic() > end:
            return states
        time.sleep(0.01)


def load(pooled: bool) -> Run:
    """Run the load through one proxy: what the clients got, what the proxy did."""
    log, replies = [], []
    with socket.create_server(UPSTREAM, backlog=64) as up, \
            socket.create_server(PROXY, backlog=64) as px:
        for lst, h in ((up, lambda _: b"200 OK\n"), (px, proxy_handler(pooled, log))):
            threading.Thread(target=serve, args=(lst, h), daemon=True).start()
        workers = [threading.Thread(target=client, args=(i, replies))
                   for i in range(CLIENTS)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=5)
        after = upstream_states(settle=1.0)
        for lst in (up, px):
            lst.shutdown(socket.SHUT_RDWR)  # wakes the accept loops
    return Run(replies, log, after)


def measure() -> dict[str, Run]:
    return each_in_namespace(load, CASES, ports=f"{LOW} {HIGH}",
                             sysctls={"net.ipv4.tcp_tw_reuse": 0})


def passes(run: Run) -> int:
    return sum(x.startswith("200") for x in run.replies)


def claims(r: dict[str, Run]) -> list[Claim]:
    naive, pool = r.values()
    got = [ok for ok, _, _ in naive.log]
    first_failure = got.index(False) if False in got else len(got)
    errors = sorted({x for x in naive.replies if not x.startswith("200")})
    return [ANSWERED.of([len(naive.replies), len(pool.replies)]),
            PASSES.of(first_failure), FULL.of(naive.after.count("TIME_WAIT")),
            STAYS_OUT.of(sum(got[first_failure:])),
            ERROR.of("; ".join(errors) or "none"), POOL_PASSES.of(passes(pool)),
            POOL_PORTS.of(max((p for _, p, _ in pool.log), default=0))]


def as_limit(chart: str, index: int) -> str:
    """Redraw series `index` of a line chart as a limit: a dashed line in the text
    colour, without markers (its legend entry too)."""
    colour = PALETTE[index]
    dashed = 'stroke="currentColor" stroke-width="1.5" stroke-dasharray="6 4"'
    out, n = re.subn(f'stroke="{colour}" stroke-width="2.5"', dashed, chart)
    out = re.sub(rf'<circle [^>]*fill="{colour}"/>', "", out)

    def key(m: re.Match) -> str:
        x, y = float(m[1]), float(m[2]) + 6
        return f'<line x1="{x}" y1="{y}" x2="{x + 12}" y2="{y}" {dashed}/>'
    out, k = re.subn(rf'<rect x="([\d.]+)" y="([\d.]+)" width="12" height="12" '
                     rf'fill="{colour}"/>', key, out)
    assert n == k == 1, "snippets/svg.py draws its series differently now"
    return out


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    rows = [[name, len(v.replies), passes(v), len(v.replies) - passes(v),
             max(p for _, p, _ in v.log),
             next((x for x in v.replies if not x.startswith("200")), "-")]
            for name, v in r.items()]
    print(f"{CLIENTS} clients x {REQUESTS} requests, {PORTS} source ports, "
          "tcp_tw_reuse=0\n")
    print(table(["proxy", "requests", "200", "errors", "max ports", "first error"],
                rows))
    naive, pool = r.values()

    def every4(run: Run, column: int) -> list[tuple[int, int]]:
        return [(i + 1, e[column]) for i, e in enumerate(run.log) if (i + 1) % 4 == 0]
    series = {"per request": every4(naive, 1), "in TIME_WAIT": every4(naive, 2),
              "pool": every4(pool, 1), "the range": [(4, PORTS), (N, PORTS)]}
    chart = as_limit(line_chart("Upstream source ports each proxy holds",
                                "requests handled", "ports", series), index=3)
    publish(claims(r), figures={"proxy_ports": chart})


if __name__ == "__main__":
    main()
