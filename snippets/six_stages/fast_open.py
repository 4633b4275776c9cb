"""TCP Fast Open (RFC 7413) puts the request in the SYN, so the server has it one
round trip sooner; but only with a cookie from an earlier, ordinary handshake, and
only where the server side is switched on, which Linux leaves off by default."""

from __future__ import annotations

import socket

from snippets import netns
from snippets.report import (
    Claim,
    NotMeasurable,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.six_stages._tcp import counter

HOST, PORT, CONNECTIONS = "127.0.0.1", 5000, 3
SYN_DATA = 32  # TCPI_OPT_SYN_DATA in tcpi_options: "SYN-ACK acked data in SYN"
COUNTERS = ("TCPFastOpenCookieReqd", "TCPFastOpenPassive")

IN_SYN = finding("tfo-data-in-syn", "with a cookie, the request rode in the SYN and "
                 f"the server took it from there: {{bound}} of the {CONNECTIONS - 1} "
                 "later connections", equals(CONNECTIONS - 1))
FIRST = finding("tfo-first-asks-cookie", "the first connection could not: it asked "
                "for a cookie and sent its request after the handshake ({bound})",
                equals("cookie asked, request after handshake"))
DEFAULT = finding("tfo-off-by-default", "with the kernel's default tcp_fastopen "
                  "({default}), no request rode in a SYN: {bound} of {total}",
                  equals(0))
ARRIVED = check("tfo-requests-arrive", "every request reached the server: {bound}",
                equals(2 * CONNECTIONS))


def connect(server: socket.socket) -> dict:
    """One connection whose client sends its request with sendto(MSG_FASTOPEN)."""
    before = [counter(name) for name in COUNTERS]
    with socket.socket() as client:
        client.sendto(b"GET /", socket.MSG_FASTOPEN, (HOST, PORT))
        peer, _ = server.accept()
        with peer:
            peer.settimeout(2)
            got = peer.recv(16)
        options = client.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[5]
    asked, passive = (counter(n) - b for n, b in zip(COUNTERS, before))
    return {"cookie asked": asked, "in SYN": bool(options & SYN_DATA)
            and passive == 1, "arrived": got == b"GET /"}


def connections() -> tuple[str, list[dict]]:
    """In a namespace: the tcp_fastopen setting and what each connection did."""
    with socket.create_server((HOST, PORT)) as server:
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
        server.settimeout(2)
        return netns.sysctl("net.ipv4.tcp_fastopen"), [
            connect(server) for _ in range(CONNECTIONS)]


def measure() -> dict[str, tuple[str, list[dict]]]:
    return {"server on": netns.run(connections,
                                   sysctls={"net.ipv4.tcp_fastopen": 3}),
            "default": netns.run(connections)}


def claims(runs: dict[str, tuple[str, list[dict]]]) -> list[Claim]:
    (_, on), (default, off) = runs["server on"], runs["default"]
    first = ("cookie asked, request after handshake" if on[0]["cookie asked"]
             and not on[0]["in SYN"] else "request in the SYN")
    return [IN_SYN.of(sum(c["in SYN"] for c in on[1:])), FIRST.of(first),
            DEFAULT.of(sum(c["in SYN"] for c in off), default=default, total=len(off)),
            ARRIVED.of(sum(c["arrived"] for c in on + off))]


def main() -> None:
    try:
        runs = measure()
    except NotMeasurable as why:
        return publish_unmeasured([IN_SYN, FIRST, DEFAULT, ARRIVED], why)
    rows = [[f"{how} (tcp_fastopen = {value})", i + 1,
             "yes" if c["cookie asked"] else "no", "yes" if c["in SYN"] else "no"]
            for how, (value, conns) in runs.items() for i, c in enumerate(conns)]
    print(table(["server side", "connection", "cookie asked", "request in SYN"],
                rows))
    publish(claims(runs))


if __name__ == "__main__":
    main()
