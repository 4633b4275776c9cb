"""A full accept queue drops SYNs silently: only a timeout makes connect() end soon."""

from __future__ import annotations

import errno
import select
import socket
import sys
import time
from dataclasses import dataclass

from snippets.report import Claim, publish, table

HOST = "127.0.0.1"
TCP_SYNCNT = getattr(socket, "TCP_SYNCNT", 7)  # Linux values; not named on every build
TCP_USER_TIMEOUT = getattr(socket, "TCP_USER_TIMEOUT", 18)
BUDGET, WATCH = 0.5, 1.6  # the client's connect timeout; how long we watch the rest


@dataclass(frozen=True)
class Attempt:
    client: str
    outcome: str  # an errno name, "timed out" (the client's own clock) or "pending"
    seconds: float
    syns_resent: int  # tcpi_retransmits from TCP_INFO


def start(addr, opt: int = 0, value: int = 0) -> socket.socket:
    s = socket.socket()
    if opt:
        s.setsockopt(socket.IPPROTO_TCP, opt, value)
    s.setblocking(False)
    s.connect_ex(addr)  # EINPROGRESS: the SYN is out and the kernel owns the retries
    return s


def finish(name: str, s: socket.socket, t0: float, until: float) -> Attempt:
    with s:
        done = select.select([], [s], [], max(0.0, until - time.monotonic()))[1]
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        outcome = errno.errorcode.get(err, "connected") if done else "pending"
        if s.gettimeout() and not done:  # a blocking socket whose own clock ran out
            outcome = "timed out"
        resent = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[2]
        return Attempt(name, outcome, time.monotonic() - t0, resent)


def measure() -> list[Attempt]:
    with socket.socket() as closed:  # bound, never listening: the kernel answers RST
        closed.bind((HOST, 0))
        t0 = time.monotonic()
        refused = finish("closed port", start(closed.getsockname()), t0, t0 + 1)
    with socket.create_server((HOST, 0), backlog=0) as srv:  # never accept()s
        addr = srv.getsockname()
        with socket.create_connection(addr, timeout=1):  # this one fills the queue
            t0 = time.monotonic()
            patient, kernel = start(addr), start(addr, TCP_USER_TIMEOUT, 500)
            c = socket.socket()
            c.settimeout(BUDGET)
            try:
                c.connect(addr)
            except TimeoutError:
                pass
            mine = finish(f"settimeout({BUDGET})", c, t0, 0)
            bounded = finish("TCP_USER_TIMEOUT=500ms", kernel, t0, t0 + WATCH)
            waiting = finish("no timeout", patient, t0, t0 + WATCH)
    return [refused, mine, bounded, waiting]


def syncnt_give_up(syncnt: int = 1, limit: float = 15.0) -> Attempt:
    """Slow (seconds): the kernel's own give-up when TCP_SYNCNT caps the SYN resends."""
    with socket.create_server((HOST, 0), backlog=0) as srv:
        with socket.create_connection(srv.getsockname(), timeout=1):
            t0 = time.monotonic()
            s = start(srv.getsockname(), TCP_SYNCNT, syncnt)
            return finish(f"TCP_SYNCNT={syncnt}", s, t0, t0 + limit)


def claims(r: list[Attempt]) -> list[Claim]:
    refused, mine, bounded, waiting = r[:4]
    ev = [f"{a.outcome} at {a.seconds:.2f} s, {a.syns_resent} SYN resent" for a in r]
    return [
        Claim("a closed port is refused at once", ev[0],
              refused.outcome == "ECONNREFUSED" and refused.seconds < 0.1),
        Claim(f"settimeout({BUDGET}) gives up at about {BUDGET} s", ev[1],
              mine.outcome == "timed out" and 0.4 <= mine.seconds <= 1.0),
        Claim("TCP_USER_TIMEOUT makes the kernel give up, well before we stop watching",
              ev[2], bounded.outcome == "ETIMEDOUT" and bounded.seconds < WATCH - 0.2),
        Claim(f"with no timeout, connect() is still pending at {WATCH} s "
              "and the kernel has resent its SYN", ev[3],
              waiting.outcome == "pending" and waiting.syns_resent >= 1),
    ] + [Claim(f"{a.client} makes the kernel give up after resending", ev[4],
               a.outcome == "ETIMEDOUT" and a.syns_resent >= 1) for a in r[4:]]


def main() -> None:
    if not sys.platform.startswith("linux"):
        print("not measured here: needs Linux (TCP_INFO, TCP_USER_TIMEOUT, TCP_SYNCNT)")
        return publish([])
    r = measure() + ([syncnt_give_up()] if "--syncnt" in sys.argv else [])
    rows = [[a.client, a.outcome, f"{a.seconds:.1f}", a.syns_resent] for a in r]
    print(table(["client", "outcome", "seconds", "SYNs resent"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
