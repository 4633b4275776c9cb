"""Abandoned keep-alive clients pile up on a server until an idle timeout frees them."""

from __future__ import annotations

import socket
import time
from collections import namedtuple
from contextlib import ExitStack

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.svg import line_chart
from snippets.timeouts._servers import WorkerPool, get, keep_alive

WORKERS, CLIENTS, IDLE = 6, 10, 0.25  # one new client every TICK s, then a quiet tail
TICK, TICKS = 0.1, 13
# held: (seconds, connections the server holds); served: clients answered
Pile = namedtuple("Pile", "server held served")


def measure() -> list[Pile]:
    names = {"no idle timeout": None, f"idle timeout {IDLE} s": IDLE}
    with ExitStack() as stack:
        pools = {n: stack.enter_context(WorkerPool(keep_alive, WORKERS, idle=i))
                 for n, i in names.items()}
        held = {n: [] for n in pools}
        clients = {n: [] for n in pools}
        t0 = time.monotonic()
        for tick in range(TICKS):
            time.sleep(max(0.0, t0 + tick * TICK - time.monotonic()))
            for name, pool in pools.items():
                held[name].append((round(tick * TICK, 1), len(pool.held)))
                if tick < CLIENTS:  # ask once, then walk away without closing
                    c = stack.enter_context(socket.create_connection(pool.address, 1))
                    c.sendall(get())
                    clients[name].append(c)
        time.sleep(0.05)
        return [Pile(n, held[n], sum(answered(c) for c in clients[n])) for n in pools]


def answered(c: socket.socket) -> bool:
    c.setblocking(False)  # look, don't wait: an answer is already here or never was
    try:
        return c.recv(64).startswith(b"HTTP/1.1 200")
    except BlockingIOError:
        return False


def claims(r: list[Pile]) -> list[Claim]:
    none, idle = r
    peak = [max(n for _, n in p.held) for p in r]
    ev = [f"peak {k} held, last {p.held[-1][1]} held, {p.served} served"
          for k, p in zip(peak, r)]
    return [
        Claim(f"with no idle timeout abandoned clients take all {WORKERS} workers "
              f"and {CLIENTS - WORKERS} later clients are never served", ev[0],
              none.held[-1][1] == WORKERS and none.served == WORKERS, timing=True),
        Claim("an idle timeout frees them: the pool never fills and every client "
              "is served", ev[1], peak[1] < WORKERS and idle.served == CLIENTS,
              timing=True),
        Claim("at the end the timeout server holds at most half as many",
              f"{idle.held[-1][1]} vs {none.held[-1][1]}",
              2 * idle.held[-1][1] <= none.held[-1][1], timing=True),
    ]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{WORKERS} workers; a client every {TICK} s asks once and never returns")
    rows = [[p.server, max(n for _, n in p.held), p.held[-1][1], p.served] for p in r]
    print(table(["server", "peak held", "held at end", f"served of {CLIENTS}"], rows))
    chart = line_chart("Connections the server holds", "seconds", "held connections",
                       {p.server: p.held for p in r})
    publish(checked.claims, figures={"frees": chart})


if __name__ == "__main__":
    main()
