"""The error a reset leaves on a socket depends on the state it arrives in: Linux's
tcp_reset() says ECONNREFUSED in SYN_SENT, EPIPE in CLOSE_WAIT and ECONNRESET in
every other state, LAST_ACK included, though that connection had received a FIN."""

from __future__ import annotations

import socket
import struct

from snippets.report import Claim, check, equals, finding, publish, table
from snippets.six_stages._tcp import pending_error, state, wait_until

HOST = "127.0.0.1"
ABORT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset
IN = {"SYN_SENT": finding("reset-in-syn-sent", "a reset to a connect() (SYN_SENT) "
                          "leaves {bound}", equals("ECONNREFUSED")),
      "ESTABLISHED": finding("reset-in-established", "a reset on an open connection "
                             "(ESTABLISHED) leaves {bound}", equals("ECONNRESET")),
      "CLOSE_WAIT": finding("reset-in-close-wait", "a reset after the peer's FIN "
                            "(CLOSE_WAIT) leaves {bound}", equals("EPIPE")),
      "LAST_ACK": finding("reset-in-last-ack", "a reset after the peer's FIN and our "
                          "own (LAST_ACK) leaves {bound}", equals("ECONNRESET"))}
REACHED = check("states-reached", "just before the peer was made to reset them, the "
                "open connections were in {bound}",
                equals(["ESTABLISHED", "CLOSE_WAIT", "CLOSE_WAIT"]))


def refused() -> tuple[str, str]:
    """connect() to a port nobody listens on: the SYN is answered with a reset."""
    with socket.create_server((HOST, 0)) as gone:
        addr = gone.getsockname()
    with socket.socket() as client:
        client.setblocking(False)
        client.connect_ex(addr)
        wait_until(lambda: state(client) == "CLOSE")
        return "-", pending_error(client)


def provoke(server: socket.socket, how: str) -> tuple[str, str]:
    """Bring a connection to a state, make the peer reset it, read the error left."""
    with socket.create_connection(server.getsockname(), timeout=2) as client:
        peer, _ = server.accept()
        if how == "ESTABLISHED":
            before = state(client)
            peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ABORT)
            peer.close()  # linger 0: close() sends a reset
        else:
            peer.close()  # a FIN; a byte sent to the closed peer earns a reset
            wait_until(lambda: state(client) == "CLOSE_WAIT")
            before = state(client)
            if how == "LAST_ACK":  # corked: the byte leaves with our FIN, after it
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            client.send(b"x")
            if how == "LAST_ACK":
                client.shutdown(socket.SHUT_WR)  # CLOSE_WAIT -> LAST_ACK, sends FIN
        wait_until(lambda: state(client) == "CLOSE")
        return before, pending_error(client)


def measure() -> dict[str, tuple[str, str]]:
    with socket.create_server((HOST, 0)) as server:
        server.settimeout(2)
        seen = {"SYN_SENT": refused()}
        return seen | {how: provoke(server, how) for how in list(IN)[1:]}


def claims(seen: dict[str, tuple[str, str]]) -> list[Claim]:
    return [REACHED.of([before for before, _ in list(seen.values())[1:]]),
            *(expect.of(seen[how][1]) for how, expect in IN.items())]


def main() -> None:
    seen = measure()
    print(table(["reset arrives in", "state seen before", "error it leaves"],
                [[how, before, error] for how, (before, error) in seen.items()]))
    publish(claims(seen))


if __name__ == "__main__":
    main()
