"""Each way a connect() can fail has its own errno; only a silent drop (here, a full
accept queue) leaves the client waiting until its own timeout."""

from __future__ import annotations

import errno
import socket
import time

from snippets import netns
from snippets.report import (
    Claim,
    NotMeasurable,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

ROUTES = {"unreachable": ("10.99.0.1", "2001:db8::1"), "prohibit": ("10.99.0.2",
          "2001:db8::2"), "blackhole": ("10.99.0.3", "2001:db8::3"),
          "throw": ("10.99.0.4", "2001:db8::4"), "no route": ("10.98.0.1",
                                                              "2001:db9::1")}
WAIT = 0.3  # the client's own timeout for the silent drop
BOTH = " (TCP and UDP, IPv4 and IPv6)"
KINDS = [  # each failure, the errno Linux gives it, and what the finding says
    ("unreachable", "EHOSTUNREACH", "a route of type unreachable fails with {bound}"),
    ("prohibit", "EACCES", "a route of type prohibit fails with {bound}"),
    ("blackhole", "EINVAL", "a route of type blackhole fails with {bound}"),
    ("throw", "ENETUNREACH", "a route of type throw fails with {bound}"),
    ("no route", "ENETUNREACH", "an address with no route fails with {bound}"),
    ("closed port", "ECONNREFUSED", ("a TCP connect to a closed port on a live host "
                                     "fails with {bound} (IPv4 and IPv6)")),
    ("UDP to a closed port", "ECONNREFUSED", ("UDP to a closed port learns of the "
     "ICMP port unreachable on its next recv(): {bound} (IPv4 and IPv6)")),
    ("full accept queue", "timed out", ("a full accept queue drops the SYN with no "
     f"answer: the connect has {{bound}} at the client's own {WAIT} s timeout"))]
ERRNOS = {kind: finding(f"errno-{kind.lower().replace(' ', '-')}",
                        text + (BOTH if kind in ROUTES else ""), equals(want))
          for kind, want, text in KINDS}


def attempt(fam, kind, addr, timeout: float = 1.0) -> tuple[str, float]:
    with socket.socket(fam, kind) as s:
        s.settimeout(timeout)
        t0 = time.monotonic()
        try:
            s.connect(addr)
            if kind == socket.SOCK_DGRAM:  # connected UDP: the ICMP error comes back
                s.send(b"?")
                s.recv(16)
            return "connected", time.monotonic() - t0
        except TimeoutError:
            return "timed out", time.monotonic() - t0
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc)), time.monotonic() - t0


def every_kind() -> list:
    rows = []
    for name, (v4, v6) in ROUTES.items():
        for fam, host in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                rows.append((name, fam.name[3:], kind.name[5:],
                             *attempt(fam, kind, (host, 80))))
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        rows.append(("closed port", fam.name[3:], "STREAM",
                     *attempt(fam, socket.SOCK_STREAM, (host, 9))))
        rows.append(("UDP to a closed port", fam.name[3:], "DGRAM",
                     *attempt(fam, socket.SOCK_DGRAM, (host, 9))))
    with socket.create_server(("127.0.0.1", 5000), backlog=0), \
            socket.create_connection(("127.0.0.1", 5000), timeout=1):  # fills it
        rows.append(("full accept queue", "INET", "STREAM",
                     *attempt(socket.AF_INET, socket.SOCK_STREAM,
                              ("127.0.0.1", 5000), timeout=WAIT)))
    return rows


def route_commands() -> list[str]:
    """`ip route add` arguments for each route type, IPv4 and IPv6."""
    return [f"{'-6 ' if ':' in a else ''}route add {t} {a}"
            for t, addrs in ROUTES.items() if t != "no route" for a in addrs]


def measure() -> list:
    """Every attempt, in a fresh namespace with the routes added (raises
    NotMeasurable where the host forbids namespaces)."""
    return netns.run(every_kind, routes=route_commands())


def claims(rows: list) -> list[Claim]:
    return [expect.of(", ".join(sorted({r[3] for r in rows if r[0] == kind})))
            for kind, expect in ERRNOS.items()]


def main() -> None:
    try:
        rows = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ERRNOS.values(), why)
    cols = [("INET", "STREAM"), ("INET", "DGRAM"), ("INET6", "STREAM"),
            ("INET6", "DGRAM")]
    got = {(k, ip, so): (o, t) for k, ip, so, o, t in rows}
    lines = []
    for kind in ERRNOS:
        slowest = max(t for (k, *_), (_, t) in got.items() if k == kind)
        lines.append([kind, *(got.get((kind, *c), ("-",))[0] for c in cols),
                      f"{slowest:.1f} s"])
    print(table(["failure", "TCP/IPv4", "UDP/IPv4", "TCP/IPv6", "UDP/IPv6",
                 "slowest"], lines))
    publish(claims(rows))


if __name__ == "__main__":
    main()
