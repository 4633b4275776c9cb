"""A full accept queue drops SYNs silently: only a timeout makes connect() end soon."""

from __future__ import annotations

import errno
import select
import socket
import sys
import time
from collections import namedtuple

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    HostForbids,
    NotMeasurable,
    at_least,
    below,
    between,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

HOST = "127.0.0.1"
BUDGET, WATCH = 0.5, 1.6  # the client's connect timeout; how long we watch the rest
# outcome: an errno name, "timed out" (the client's own clock) or "pending";
# syns_resent: tcpi_retransmits from TCP_INFO
Attempt = namedtuple("Attempt", "client outcome seconds syns_resent")

REFUSED = finding("closed-port-refused", "connect() to a closed port fails with "
                  "{bound}", equals("ECONNREFUSED"))
AT_ONCE = finding("refused-at-once", "the refusal takes {bound}", below(100),
                  unit="ms", timing=True)
SILENT = finding("full-queue-silent", "a full accept queue answers no SYN: connect() "
                 f"with settimeout({BUDGET}) {{bound}}", equals("timed out"))
MINE = check("settimeout-at-budget",
             f"settimeout({BUDGET}) gives up at its budget: {{bound}}",
             between(0.4, 1.0), unit="s", fmt=".2f", timing=True)
USER = finding("user-timeout-etimedout", "TCP_USER_TIMEOUT=500ms makes the kernel "
               "end the attempt with {bound}", equals("ETIMEDOUT"))
USER_LATE = finding("user-timeout-late", "TCP_USER_TIMEOUT=500ms gives up later than "
                    "its limit, at the first SYN resend: {bound}",
                    between(900, 1400), unit="ms", fmt=",.0f", timing=True)
USER_RESENT = finding("user-timeout-one-resend", "SYNs resent before "
                      "TCP_USER_TIMEOUT=500ms gave up: {bound}", equals(1))
PENDING = finding("no-timeout-pending", f"with no timeout, connect() is still "
                  f"{{bound}} at {WATCH} s", equals("pending"))
RESENT = finding("syn-resent", "SYNs the kernel resent by then for the connect() "
                 "with no timeout: {bound}", at_least(1))
ALL = [REFUSED, AT_ONCE, SILENT, MINE, USER, USER_LATE, USER_RESENT, PENDING, RESENT]


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
    if not sys.platform.startswith("linux"):
        raise HostForbids("needs Linux (TCP_INFO, TCP_USER_TIMEOUT)")
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


def claims(r: list[Attempt]) -> list[Claim]:
    refused, mine, bounded, waiting = r
    return [REFUSED.of(refused.outcome), AT_ONCE.of(refused.seconds * 1000),
            SILENT.of(mine.outcome), MINE.of(mine.seconds), USER.of(bounded.outcome),
            USER_LATE.of(bounded.seconds * 1000), USER_RESENT.of(bounded.syns_resent),
            PENDING.of(waiting.outcome), RESENT.of(waiting.syns_resent)]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    r = checked.result
    rows = [[a.client, a.outcome, f"{a.seconds:.1f}", a.syns_resent] for a in r]
    print(table(["client", "outcome", "seconds", "SYNs resent"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
