"""Abandoned keep-alive clients pile up on a server until an idle timeout frees them."""

from __future__ import annotations

import socket
import time
from collections import namedtuple
from contextlib import ExitStack

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    at_most,
    below,
    check,
    equals,
    finding,
    publish,
    table,
)
from snippets.svg import line_chart
from snippets.timeouts._servers import WorkerPool, get, keep_alive

WORKERS, CLIENTS, IDLE = 6, 10, 0.25  # one new client every TICK s, then a quiet tail
TICK, TICKS = 0.1, 13
# held: (seconds, connections the server holds); served: clients answered
Pile = namedtuple("Pile", "server held served")

STUCK = check("no-idle-serves-workers", f"with no idle timeout abandoned clients keep "
              f"all {WORKERS} workers: clients served {{bound}} of {CLIENTS}",
              equals(WORKERS), timing=True)
PEAK = finding("idle-peak", f"an idle timeout of {IDLE} s frees them: the most "
               f"connections held at once is {{bound}}, the pool never fills",
               below(WORKERS), timing=True)
SERVED = check("idle-serves-all", f"with the idle timeout clients served: {{bound}} "
               f"of {CLIENTS}", equals(CLIENTS), timing=True)
END = finding("idle-end-held", "after the quiet tail the idle-timeout server holds "
              "{bound} connections", at_most(WORKERS // 2), timing=True)


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
    return [STUCK.of(none.served), PEAK.of(max(n for _, n in idle.held)),
            SERVED.of(idle.served), END.of(idle.held[-1][1])]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{WORKERS} workers; a client every {TICK} s asks once and never returns")
    rows = [[p.server, max(n for _, n in p.held), p.held[-1][1], p.served] for p in r]
    print(table(["server", "peak held", "held at end", f"served of {CLIENTS}"], rows))
    lines = {p.server: p.held for p in r}
    lines[f"pool size ({WORKERS})"] = [(0.0, WORKERS), (r[0].held[-1][0], WORKERS)]
    chart = line_chart("Connections the server holds", "seconds", "held connections",
                       lines)
    publish(checked.claims, figures={"frees": chart})


if __name__ == "__main__":
    main()
