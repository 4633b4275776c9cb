"""What the ephemeral-ports demos share: a tiny port range in a private namespace,
listeners on fixed ports outside it, and the TCP sockets /proc/net/tcp lists."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from collections import namedtuple
from collections.abc import Callable

from snippets import netns
from snippets.report import Claim

LOW, HIGH = 40000, 40003  # even-sized: connect() prefers even ports (Linux >= 4.2)
RANGE = f"{LOW} {HIGH}"
SIZE = HIGH - LOW + 1
STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
          "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK",
          "0A": "LISTEN", "0B": "CLOSING"}
Sock = namedtuple("Sock", "local_port remote_port state timer_seconds")


def sockets() -> list[Sock]:
    """Every IPv4 TCP socket in this namespace, TIME_WAIT included (ss -tan)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in list(f)[1:]]
    hz = os.sysconf("SC_CLK_TCK")  # /proc/net/tcp timers are in USER_HZ ticks
    return [Sock(int(r[1].split(":")[1], 16), int(r[2].split(":")[1], 16),
                 STATES.get(r[3], r[3]), int(r[5].split(":")[1], 16) / hz)
            for r in rows]


def ephemeral(state: str | None = None) -> list[Sock]:
    """The sockets whose local port comes from the range (optionally in `state`)."""
    return [s for s in sockets() if LOW <= s.local_port <= HIGH
            and state in (None, s.state)]


def settle(limit: float = 1.0) -> None:
    """Wait (bounded) until no socket waits for the peer's ACK of its FIN."""
    end = time.monotonic() + limit
    busy = {"FIN_WAIT1", "LAST_ACK", "CLOSING"}
    while time.monotonic() < end and any(s.state in busy for s in sockets()):
        time.sleep(0.01)


def connect(dest: tuple[str, int], keep: list[socket.socket],
            bind: str | None = None, no_port: bool = False) -> int | str:
    """One connect: the source port it got, or the errno name it failed with."""
    s = socket.socket()
    try:
        if no_port:
            s.setsockopt(socket.IPPROTO_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT
        if bind is not None:
            s.bind((bind, 0))
        s.settimeout(2)
        s.connect(dest)
    except OSError as exc:
        s.close()
        return errno.errorcode.get(exc.errno, str(exc))
    keep.append(s)
    return s.getsockname()[1]


def fill(dest: tuple[str, int], keep: list[socket.socket], **how) -> tuple[list, str]:
    """Connect until the first failure: (source ports got, the errno that ended it)."""
    ports: list[int] = []
    for _ in range(4 * SIZE):  # bounded: never more tries than the range could give
        got = connect(dest, keep, **how)
        if isinstance(got, str):
            return ports, got
        ports.append(got)
    return ports, "no failure"


@contextlib.contextmanager
def listeners(*addresses: tuple[str, int], backlog: int = 64):
    """Listeners on fixed ports outside the range (a port-0 listener would take one)."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(socket.create_server(a, backlog=backlog))
               for a in addresses]


def in_namespace(fn: Callable, *args, sysctls: dict | None = None,
                 tiny: bool = True, **kwargs):
    """(fn's result, None) run in a fresh namespace with the tiny range (unless
    `tiny` is false), or (None, the reason) where the host forbids namespaces."""
    wanted = {"net.ipv4.ip_local_port_range": RANGE} if tiny else {}
    wanted.update(sysctls or {})
    try:
        return netns.run(fn, *args, sysctls=wanted, **kwargs), None
    except netns.Unavailable as exc:
        return None, f"not checked here: {exc.reason}"


def unchecked(statements: list[str], reason: str) -> list[Claim]:
    return [Claim.not_checked(s, reason) for s in statements]
