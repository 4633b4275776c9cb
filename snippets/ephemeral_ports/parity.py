"""connect() takes every even port of the range before any odd one, and bind(0) every
odd one before any even one; a socket with IP_LOCAL_PORT_RANGE set (Linux 6.8 and
later) gets no such preference from connect()."""

from __future__ import annotations

import platform
import re
import socket
import struct
from dataclasses import dataclass

from snippets.ephemeral_ports._ports import close, in_namespace, listeners
from snippets.report import (
    Claim,
    NotMeasurable,
    below,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

LOW, HIGH = 40000, 40063  # 64 ports: 32 even, 32 odd
HALF = (HIGH - LOW + 1) // 2
DEST = ("127.0.0.1", 5000)
IP_LOCAL_PORT_RANGE = 51  # include/uapi/linux/in.h, since Linux 6.3
WAYS = ["connect()", "bind(0)", "connect(), IP_LOCAL_PORT_RANGE set"]

EVEN_FIRST = finding("connect-even-first", f"connect() takes {{bound}} of the {HALF} "
                     "even ports before its first odd one", equals(HALF))
ODD_FIRST = finding("bind-odd-first", f"bind(0) takes {{bound}} of the {HALF} odd "
                    "ports before its first even one", equals(HALF))
MIXED = finding("range-option-mixes", "with IP_LOCAL_PORT_RANGE set on each socket, "
                "connect() takes {bound} even ports before its first odd one",
                below(HALF))
ALL = [EVEN_FIRST, ODD_FIRST, MIXED]


@dataclass(frozen=True)
class Picks:
    ports: dict[str, list[int] | None]  # way: ports in order (None: no such option)


def pick(way: str) -> list[int] | None:
    """HALF + 1 ports, each socket kept until all are picked, then reset."""
    socks: list[socket.socket] = []
    try:
        for _ in range(HALF + 1):
            s = socket.socket()
            socks.append(s)
            s.settimeout(2)
            if way == WAYS[2]:
                try:
                    s.setsockopt(socket.IPPROTO_IP, IP_LOCAL_PORT_RANGE,
                                 struct.pack("I", HIGH << 16 | LOW))
                except OSError:
                    return None  # ENOPROTOOPT: a kernel before 6.3
            if way == WAYS[1]:
                s.bind(("127.0.0.1", 0))
            else:
                s.connect(DEST)
        return [s.getsockname()[1] for s in socks]
    finally:
        close(socks, reset=True)


def picks() -> Picks:
    with listeners(DEST, backlog=4 * HALF):  # two rounds of connects wait unaccepted
        return Picks({way: pick(way) for way in WAYS})


def measure() -> Picks:
    return in_namespace(picks, ports=f"{LOW} {HIGH}")


def leading(ports: list[int], parity: int) -> int:
    """How many ports of this parity (0 even, 1 odd) come before the first other."""
    return next((i for i, p in enumerate(ports) if p % 2 != parity), len(ports))


def kernel() -> tuple[int, int]:
    return tuple(int(x) for x in re.findall(r"\d+", platform.release())[:2])


def claims(r: Picks, release: tuple[int, int] | None = None) -> list[Claim]:
    plain, bound, ranged = (r.ports[w] for w in WAYS)
    if ranged is None:
        option = MIXED.not_checked("this kernel has no IP_LOCAL_PORT_RANGE (Linux 6.3)")
    elif (release or kernel()) < (6, 8):
        option = MIXED.not_checked("the option drops the even-port preference only "
                                   "since Linux 6.8 (commit 207184853dbd)")
    else:
        option = MIXED.of(leading(ranged, 0))
    return [EVEN_FIRST.of(leading(plain, 0)), ODD_FIRST.of(leading(bound, 1)), option]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    print(f"range {LOW} {HIGH}: {HALF} even and {HALF} odd ports\n")
    print(table(["how the port is picked", "even before the first odd",
                 "odd before the first even"],
                [[w, leading(p, 0), leading(p, 1)] if p else [w, "-", "-"]
                 for w, p in r.ports.items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
