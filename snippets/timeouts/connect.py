"""A full accept queue drops SYNs silently: only a timeout makes connect() end soon."""

from __future__ import annotations

import errno
import select
import socket
import sys
import time
from collections import namedtuple

from snippets.measure import check_timing
from snippets.report import Claim, publish, table

HOST = "127.0.0.1"
BUDGET, WATCH = 0.5, 1.6  # the client's connect timeout; how long we watch the rest
# outcome: an errno name, "timed out" (the client's own clock) or "pending";
# syns_resent: tcpi_retransmits from TCP_INFO
Attempt = namedtuple("Attempt", "client outcome seconds syns_resent")


def start(addr, timeout: float = 0.0, opt: int = 0, value: int = 0) -> socket.socket:
    """Send the SYN; wait for the handshake at most `timeout` s (0: not at all)."""
    s = socket.socket()
    if opt:
        s.setsockopt(socket.IPPROTO_TCP, opt, value)
    s.settimeout(timeout)
    s.connect_ex(addr)  # an errno, not an exception: finish() reads the outcome
    return s


def finish(name: str, s: socket.socket, t0: float, until: float) -> Attempt:
    with s:
        done = select.select([], [s], [], max(0.0, until - time.monotonic()))[1]
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        unfinished = "timed out" if s.gettimeout() else "pending"  # its clock ran out
        outcome = errno.errorcode.get(err, "connected") if done else unfinished
        resent = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[2]
        return Attempt(name, outcome, time.monotonic() - t0, resent)


def measure() -> list[Attempt]:
    with socket.socket() as closed:  # bound, never listening: the kernel answers RST
        closed.bind((HOST, 0))
        t0 = time.monotonic()
        refused = finish("closed port", start(closed.getsockname()), t0, t0 + 1)
    with (socket.create_server((HOST, 0), backlog=0) as srv,  # never accept()s
          socket.create_connection(srv.getsockname(), timeout=1)):  # fills the queue
        addr, t0 = srv.getsockname(), time.monotonic()
        patient, kernel = start(addr), start(addr, 0, socket.TCP_USER_TIMEOUT, 500)
        mine = finish(f"settimeout({BUDGET})", start(addr, BUDGET), t0, 0)
        bounded = finish("TCP_USER_TIMEOUT=500ms", kernel, t0, t0 + WATCH)
        waiting = finish("no timeout", patient, t0, t0 + WATCH)
    return [refused, mine, bounded, waiting]


def syncnt_give_up(syncnt: int = 1, limit: float = 15.0) -> Attempt:
    """Slow (seconds): the kernel's own give-up when TCP_SYNCNT caps the SYN resends."""
    with (socket.create_server((HOST, 0), backlog=0) as srv,
          socket.create_connection(srv.getsockname(), timeout=1)):
        t0 = time.monotonic()
        s = start(srv.getsockname(), 0, socket.TCP_SYNCNT, syncnt)
        return finish(f"TCP_SYNCNT={syncnt}", s, t0, t0 + limit)


def claims(r: list[Attempt]) -> list[Claim]:
    refused, mine, bounded, waiting, *syncnt = r
    ev = [f"{a.outcome} at {a.seconds:.2f} s, {a.syns_resent} SYN resent" for a in r]
    return [
        Claim("a closed port is refused at once, without a SYN resent", ev[0],
              refused.outcome == "ECONNREFUSED" and refused.syns_resent == 0
              and refused.seconds < 0.1, timing=True),
        Claim(f"settimeout({BUDGET}) gives up at about {BUDGET} s", ev[1],
              mine.outcome == "timed out" and 0.4 <= mine.seconds <= 1.0,
              timing=True),
        Claim("TCP_USER_TIMEOUT makes the kernel give up, well before we stop watching",
              ev[2], bounded.outcome == "ETIMEDOUT" and bounded.seconds < WATCH - 0.2,
              timing=True),
        Claim("...later than its 500 ms limit, after exactly one SYN resent", ev[2],
              bounded.syns_resent == 1 and bounded.seconds > 0.5, timing=True),
        Claim(f"with no timeout, connect() is still pending at {WATCH} s "
              "and the kernel has resent its SYN", ev[3],
              waiting.outcome == "pending" and waiting.syns_resent >= 1, timing=True),
    ] + [Claim(f"{a.client} makes the kernel give up after resending", ev[4],
               a.outcome == "ETIMEDOUT" and a.syns_resent >= 1) for a in syncnt]


def main() -> None:
    if not sys.platform.startswith("linux"):
        print("not checked here: needs Linux (TCP_INFO, TCP_USER_TIMEOUT, TCP_SYNCNT)")
        return publish([])
    slow = "--syncnt" in sys.argv
    checked = check_timing(lambda: measure() + ([syncnt_give_up()] if slow else []),
                           claims)
    r = checked.result
    rows = [[a.client, a.outcome, f"{a.seconds:.1f}", a.syns_resent] for a in r]
    print(table(["client", "outcome", "seconds", "SYNs resent"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
