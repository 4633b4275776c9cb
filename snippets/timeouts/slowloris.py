"""Slowloris: a per-read timeout does not save a worker pool; a header deadline does."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    at_least,
    below,
    check,
    equals,
    finding,
    publish,
    table,
)
from snippets.svg import timeline
from snippets.timeouts._servers import OK, WorkerPool, get, read_head

WORKERS = ATTACKERS = 2
DRIP, IDLE, DEADLINE = 0.1, 0.4, 0.3  # s between header lines; the servers' timeouts
ARRIVE, PATIENCE, ATTACK = 0.15, 0.8, 1.2  # the normal client; how long the attack runs
POLICIES = {"deadline": {"deadline": DEADLINE}, "per-read": {"idle": IDLE},
            "no timeout": {}}
# client: "got 200" or "gave up"; cuts: attacker connections the server ended before
# the attack did; longest_hold: the longest an attacker held a worker, in seconds
Outcome = namedtuple("Outcome", "server client waited cuts longest_hold lanes")

STARVED = check("no-timeout-starved", "with no timeout the attackers hold every "
                "worker: the normal client {bound}", equals("gave up"), timing=True)
NEVER_FIRES = finding("per-read-never-fires", f"a per-read timeout of {IDLE} s cuts "
                      f"{{bound}} attackers dripping a line every {DRIP} s",
                      equals(0), timing=True)
STILL_STARVED = finding("per-read-starved", "with the per-read timeout the normal "
                        "client {bound}", equals("gave up"), timing=True)
CUTS = finding("deadline-cuts", f"a {DEADLINE} s header deadline cuts {{bound}} "
               "attacker connections", at_least(ATTACKERS), timing=True)
HOLD = finding("deadline-hold", "the longest an attacker holds a worker under the "
               "header deadline: {bound}", below(DEADLINE + 0.25), unit="s",
               fmt=".2f", timing=True)
SERVED = finding("deadline-served", "with the header deadline the normal client "
                 "{bound}", equals("got 200"), timing=True)


def handle(conn: socket.socket, pool: WorkerPool, **policy) -> str:
    if read_head(conn, **policy) is None:  # a timeout fired, or the peer left
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        return "attacker"
    time.sleep(0.05)  # the real work
    conn.sendall(OK)
    return "normal request"


def attacker(pool: WorkerPool) -> None:
    """Drip a header line every DRIP s, never the blank line that ends the header,
    until the server speaks (a 408) or hangs up: cut, reconnect."""
    while pool.now() < ATTACK:
        with contextlib.suppress(OSError), socket.create_connection(
                pool.address, timeout=DRIP) as s:
            s.sendall(b"GET / HTTP/1.1\r\n")
            while pool.now() < ATTACK and not select.select([s], [], [], DRIP)[0]:
                s.sendall(b"X-Drip: 1\r\n")


def attack(name: str, policy: dict) -> Outcome:
    """Attackers hold one server's workers; a normal client comes at ARRIVE s."""
    with (ThreadPoolExecutor(ATTACKERS) as ex,
          WorkerPool(handle, WORKERS, **policy) as pool):
        for _ in range(ATTACKERS):
            ex.submit(attacker, pool)
        time.sleep(ARRIVE)
        start, served = pool.now(), False
        with socket.create_connection(pool.address, timeout=PATIENCE) as s:
            s.sendall(get())
            with contextlib.suppress(TimeoutError):
                served = s.recv(64).startswith(b"HTTP/1.1 200")
        end = pool.now()
        time.sleep(max(0.0, ATTACK - end))  # the pool shuts down, then attackers leave
    hits = [s for s in pool.spans if s.kind == "attacker"]
    lanes = [(f"{name} w{w + 1}", [s[1:] for s in pool.spans if s.worker == w])
             for w in range(WORKERS)]
    lanes.append((f"{name} client", [(start, end, "served" if served else "gave up")]))
    return Outcome(name, "got 200" if served else "gave up", end - start,
                   sum(s.end < ATTACK - 0.05 for s in hits),
                   max(s.end - s.start for s in hits), lanes)


def measure() -> list[Outcome]:
    with ThreadPoolExecutor(len(POLICIES)) as ex:  # the servers side by side
        return list(ex.map(attack, POLICIES, POLICIES.values()))


def claims(r: list[Outcome]) -> list[Claim]:
    dl, rd, no = r
    return [STARVED.of(no.client), NEVER_FIRES.of(rd.cuts),
            STILL_STARVED.of(rd.client), CUTS.of(dl.cuts), HOLD.of(dl.longest_hold),
            SERVED.of(dl.client)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"{WORKERS} workers, {ATTACKERS} attackers dripping a line every {DRIP} s")
    print(table(["server", "client", "waited s", "attackers cut", "longest hold s"],
                [[o.server, o.client, f"{o.waited:.1f}",
                  o.cuts, f"{o.longest_hold:.1f}"] for o in r]))
    chart = timeline("Who holds each server's workers during the attack",
                     [lane for o in r for lane in o.lanes])
    publish(checked.claims, figures={"slowloris": chart})


if __name__ == "__main__":
    main()
