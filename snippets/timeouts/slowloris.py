"""Slowloris: a per-read timeout does not save a worker pool; a header deadline does."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass

from snippets.report import Claim, publish, table
from snippets.svg import timeline
from snippets.timeouts._servers import OK, WorkerPool, read_head

WORKERS = ATTACKERS = 2
DRIP, IDLE, DEADLINE = 0.1, 0.4, 0.3  # s between header lines; the servers' timeouts
ARRIVE, PATIENCE, ATTACK = 0.15, 0.8, 1.2  # the normal client; how long the attack runs
POLICIES = {"header deadline": {"deadline": DEADLINE}, "per-read": {"idle": IDLE},
            "no timeout": {}}


def serve(policy: dict):
    def handle(conn: socket.socket, pool: WorkerPool) -> str:
        if read_head(conn, **policy) is None:  # a timeout fired, or the peer left
            with contextlib.suppress(OSError):
                conn.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            return "attacker"
        time.sleep(0.05)  # the real work
        conn.sendall(OK)
        return "normal request"
    return handle


def attacker(pool: WorkerPool) -> None:
    """Drip one header line every DRIP s, never the blank line; reconnect when cut."""
    while pool.now() < ATTACK:
        with contextlib.suppress(OSError), socket.create_connection(
                pool.address, timeout=DRIP) as s:
            s.sendall(b"GET / HTTP/1.1\r\n")
            while pool.now() < ATTACK:
                s.sendall(b"X-Drip: 1\r\n")
                with contextlib.suppress(TimeoutError):
                    s.recv(64)  # the server spoke (408) or hung up: we were cut
                    break


def client(pool: WorkerPool, out: list) -> None:
    time.sleep(ARRIVE)
    start, served = pool.now(), False
    with socket.create_connection(pool.address, timeout=PATIENCE) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
        with contextlib.suppress(TimeoutError):
            served = s.recv(64).startswith(b"HTTP/1.1 200")
    out.append((start, pool.now(), "served" if served else "gave up"))


@dataclass(frozen=True)
class Outcome:
    server: str
    served: bool
    waited: float
    cuts: int  # attacker connections the server ended before the attack did
    longest_hold: float
    lanes: list  # (lane, [(start, end, kind)]) for the timeline


def outcome(name: str, pool: WorkerPool, waits: list) -> Outcome:
    (start, end, kind), = waits
    hits = [s for s in pool.spans if s.kind == "attacker"]
    lanes = [(f"w{w + 1}", [(s.start, s.end, s.kind) for s in pool.spans
                            if s.worker == w]) for w in range(WORKERS)]
    return Outcome(name, kind == "served", end - start,
                   sum(s.end < ATTACK - 0.05 for s in hits),
                   max(s.end - s.start for s in hits), lanes + [("client", waits)])


def measure() -> list[Outcome]:
    with contextlib.ExitStack() as stack:
        pools = {n: stack.enter_context(WorkerPool(serve(p), WORKERS))
                 for n, p in POLICIES.items()}
        waits = {n: [] for n in pools}
        threads = [threading.Thread(target=attacker, args=(p,))
                   for p in pools.values() for _ in range(ATTACKERS)]
        threads += [threading.Thread(target=client, args=(p, waits[n]))
                    for n, p in pools.items()]
        for t in threads:
            t.start()
        time.sleep(ATTACK)  # then the pools shut down, before any attacker hangs up
    for t in threads:
        t.join(timeout=2)
    return [outcome(n, p, waits[n]) for n, p in pools.items()]


def claims(r: list[Outcome]) -> list[Claim]:
    dl, rd, no = r
    ev = [f"served={o.served}, {o.cuts} cut, held {o.longest_hold:.2f} s" for o in r]
    return [
        Claim("no timeout: attackers hold every worker, the client is not served",
              ev[2], not no.served and no.cuts == 0),
        Claim(f"a per-read timeout ({IDLE} s) never fires on a {DRIP} s drip",
              ev[1], not rd.served and rd.cuts == 0 and rd.longest_hold >= 2 * IDLE),
        Claim(f"a {DEADLINE} s header deadline cuts the attackers; client served",
              ev[0], dl.served and dl.cuts >= ATTACKERS
              and dl.longest_hold < DEADLINE + 0.25),
    ]


def main() -> None:
    r = measure()
    print(f"{WORKERS} workers, {ATTACKERS} attackers dripping a line every {DRIP} s")
    print(table(["server", "client", "waited s", "attackers cut", "longest hold s"],
                [[o.server, "served" if o.served else "gave up", f"{o.waited:.1f}",
                  o.cuts, f"{o.longest_hold:.1f}"] for o in r]))
    tag = {"header deadline": "dl", "per-read": "rd", "no timeout": "no"}
    lanes = [(f"{tag[o.server]} {n}", s) for o in r for n, s in o.lanes]
    publish(claims(r), figures={"slowloris": timeline(
        "Who holds which worker (dl: header deadline, rd: per-read, no: none)", lanes)})


if __name__ == "__main__":
    main()
