"""What the ephemeral-ports demos share: a tiny port range in a private namespace,
listeners on fixed ports outside it, a peer in a second namespace over a veth pair,
and the TCP sockets /proc/net/tcp lists."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import socket
import struct
import time
from collections import namedtuple
from collections.abc import Callable, Iterable
from typing import TypeVar

from snippets import netns
from snippets.report import HostForbids, MissingTool

T = TypeVar("T")
# even-sized: connect() rounds the range's size down to even and starts at a random
# even offset (`remaining &= ~1U` in __inet_hash_connect), so 5 ports give 4 or 5
LOW, HIGH = 40000, 40003
RANGE = f"{LOW} {HIGH}"
SIZE = HIGH - LOW + 1
RESET = struct.pack("ii", 1, 0)  # SO_LINGER {on, 0 s}: close() sends RST, no TIME_WAIT
STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
          "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK",
          "0A": "LISTEN", "0B": "CLOSING"}
Sock = namedtuple("Sock", "local_port remote_port state timer_seconds")
Filled = namedtuple("Filled", "ports ended_by")  # source ports got, the errno after
CLONE_NEWNET = 0x40000000


def in_namespace(fn: Callable[..., T], *args: object, ports: str | None = RANGE,
                 sysctls: dict | None = None) -> T:
    """fn(*args) in a fresh namespace with the port range `ports` (None: the
    kernel's default) and `sysctls`. Where the host cannot make one, netns raises
    report.NotMeasurable (HostForbids, MissingTool) with the reason."""
    wanted = {"net.ipv4.ip_local_port_range": ports} if ports else {}
    return netns.run(fn, *args, sysctls=wanted | (sysctls or {}))


def each_in_namespace(fn: Callable[..., T], cases: dict[str, tuple],
                      **how: object) -> dict[str, T]:
    """fn(*args) for each named case, each in a namespace of its own."""
    return {name: in_namespace(fn, *args, **how) for name, args in cases.items()}


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


def sockstat_tw() -> int:
    """TIME_WAIT sockets in this namespace, as the `tw` of /proc/net/sockstat."""
    with open("/proc/net/sockstat") as f:
        tcp = next(line.split() for line in f if line.startswith("TCP:"))
    return int(tcp[tcp.index("tw") + 1])


def tcpext() -> dict[str, int]:
    """This namespace's TcpExt counters from /proc/net/netstat (what `nstat` shows
    as TcpExt<name>)."""
    with open("/proc/net/netstat") as f:
        rows = [line.split() for line in f if line.startswith("TcpExt:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))


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


# --8<-- [start:fill]
def fill(dest: tuple[str, int], keep: list[socket.socket], **how) -> Filled:
    """Connect until the first failure: the source ports got, the errno after them."""
    ports: list[int] = []
    for _ in range(4 * SIZE):  # bounded: never more tries than the range could give
        got = connect(dest, keep, **how)  # a source port, or an errno's name
        if isinstance(got, str):
            return Filled(ports, got)
        ports.append(got)  # each socket stays open in `keep`, holding its port
    return Filled(ports, "no failure")
# --8<-- [end:fill]


def pairs(srv: socket.socket, dest: tuple[str, int]) -> tuple[list, list]:
    """Connect to `dest` until the range runs out: (client sockets, server sockets)."""
    clients: list[socket.socket] = []
    fill(dest, clients)
    return clients, [srv.accept()[0] for _ in clients]


def close(socks: Iterable[socket.socket], reset: bool = False) -> None:
    """Close each socket; with `reset`, by a reset (SO_LINGER {1, 0}) instead of FIN."""
    for s in socks:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET)
        s.close()


@contextlib.contextmanager
def listeners(*addresses: tuple[str, int], backlog: int = 64):
    """Listeners on fixed ports outside the range (a port-0 listener would take one)."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(socket.create_server(a, backlog=backlog))
               for a in addresses]


def veth_peer(here: str, there: str, port: int) -> socket.socket:
    """A listener on `there`:`port` in a second namespace, joined to this one by a
    veth pair whose end here has the address `here`: a peer that is not loopback."""
    if not shutil.which("ip"):
        raise MissingTool("iproute2 (`ip`) is not installed: apt-get install iproute2")
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    ready, done = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:  # makes the second namespace and holds it while it is set up
        os.write(ready[1], b"." if libc.unshare(CLONE_NEWNET) == 0 else b"!")
        os.read(done[0], 1)
        os._exit(0)
    try:
        if os.read(ready[0], 1) != b".":
            raise HostForbids("unshare(network namespace) failed inside the first")
        away = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        netns.ip("link", "add", "va", "type", "veth", "peer", "name", "vb",
                 "netns", str(pid))
        netns.ip("addr", "add", f"{here}/24", "dev", "va")
        netns.ip("link", "set", "va", "up")
        libc.setns(away, CLONE_NEWNET)  # `ip` and the listener below run over there
        try:
            netns.ip("addr", "add", f"{there}/24", "dev", "vb")
            netns.ip("link", "set", "vb", "up")
            return socket.create_server((there, port))
        finally:
            libc.setns(home, CLONE_NEWNET)
            os.close(away)
    except OSError as exc:
        raise HostForbids(f"no veth pair between namespaces here: {exc}") from None
    finally:
        os.write(done[1], b".")
        os.waitpid(pid, 0)
        for fd in (home, *ready, *done):
            os.close(fd)
