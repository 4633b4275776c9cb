"""What the TCP demos of this page share: a socket's state and pending error as the
kernel reports them, and the kernel's own lists and counters in /proc/net."""

from __future__ import annotations

import errno
import socket
import time
from pathlib import Path

# tcp_states.h numbering, as TCP_INFO's tcpi_state and /proc/net/tcp's "st" give it
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
          5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK",
          10: "LISTEN", 11: "CLOSING"}


def state(sock: socket.socket) -> str:
    """The connection's state, from TCP_INFO (its first byte is tcpi_state)."""
    return STATES[sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]]


def pending_error(sock: socket.socket) -> str:
    """The error the kernel holds for this socket (SO_ERROR), by name, or "none"."""
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return errno.errorcode.get(code, str(code)) if code else "none"


def wait_until(done, seconds: float = 2.0) -> bool:
    """Poll `done()` every millisecond for up to `seconds`; whether it came true."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def sockets() -> dict[tuple[int, int], tuple[str, int]]:
    """This namespace's IPv4 TCP sockets, by (local port, remote port): their state
    and rx_queue (for a listener, the connections waiting in its accept queue)."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        local, remote = (int(a.split(":")[1], 16) for a in f[1:3])
        found[(local, remote)] = STATES[int(f[3], 16)], int(f[4].split(":")[1], 16)
    return found


def counter(name: str) -> int:
    """A TcpExt counter of this namespace (/proc/net/netstat): ListenOverflows..."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            return dict(zip(head.split()[1:], map(int, values.split()[1:])))[name]
    raise KeyError(name)
