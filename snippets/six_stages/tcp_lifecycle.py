"""What TCP does under connect, read and close, seen with real sockets on loopback:
the kernel completes the handshake before accept(), a read after the peer's close
returns b"", and a send to a closed peer succeeds once, then fails."""

from __future__ import annotations

import errno
import select
import socket

from snippets.report import Claim, check, equals, finding, publish, table

HOST = "127.0.0.1"
STEPS = {  # each step in the order measure() takes it, and what Linux does there
    "connect() before any accept()": finding(
        "connect-before-accept", "connect() returns before the server calls accept():"
        " the kernels do the handshake", equals("returned")),
    "client sends before accept()": finding(
        "send-before-accept", "a send before accept() is taken whole ({bound} "
        "bytes): the data waits in the server's kernel", equals(2)),
    "accept() returns the client": check(
        "accept-is-the-client", "accept() returns the demo's own client",
        equals("the client")),
    "server reads after accept()": finding(
        "read-after-accept", "the server's first read after accept() returns what "
        "was sent before it: {bound}", equals('"hi"')),
    "client reads after server close()": finding(
        "read-after-fin", "a read after the peer's close() returns {bound}: the FIN "
        "reads as end of stream", equals("0 bytes")),
    "client sends to the closed peer": finding(
        "send-after-close", "a send to the closed peer still succeeds ({bound} "
        "byte): the kernel takes it, the peer answers RST", equals(1)),
    "client sends again": finding(
        "send-after-rst", "the next send, after the RST, fails: {bound}",
        equals("BrokenPipeError (EPIPE)")),
}


def outcome(fn) -> int | str:
    """What a call returned (a byte count, the text read, or "0 bytes" for the end
    of the stream), or the errno name it raised."""
    try:
        value = fn()
    except OSError as e:
        return f"{type(e).__name__} ({errno.errorcode.get(e.errno, e.errno)})"
    if isinstance(value, int):
        return value
    return f'"{value.decode()}"' if value else "0 bytes"


def measure() -> dict[str, int | str]:
    """Each step in order; every wait bounded by a 2 s timeout."""
    seen: dict[str, int | str] = {}
    with socket.create_server((HOST, 0), backlog=8) as server:
        server.settimeout(2)
        try:
            client = socket.create_connection(server.getsockname(), timeout=2)
        except OSError as e:  # e.g. a timeout: the handshake needed accept()
            seen["connect() before any accept()"] = type(e).__name__
            return seen
        with client:
            seen["connect() before any accept()"] = "returned"
            seen["client sends before accept()"] = outcome(lambda: client.send(b"hi"))
            peer, _ = server.accept()
            with peer:
                peer.settimeout(2)
                seen["accept() returns the client"] = (
                    "the client" if peer.getpeername() == client.getsockname()
                    else "another socket")
                seen["server reads after accept()"] = outcome(lambda: peer.recv(16))
            seen["client reads after server close()"] = outcome(lambda: client.recv(16))
            seen["client sends to the closed peer"] = outcome(lambda: client.send(b"x"))
            select.select([client], [], [], 2)  # until the peer's RST arrives
            seen["client sends again"] = outcome(lambda: client.send(b"x"))
    return seen


def claims(seen: dict[str, int | str]) -> list[Claim]:
    return [expect.of(seen.get(step, "not reached")) for step, expect in STEPS.items()]


def main() -> None:
    seen = measure()
    print(table(["step", "outcome"], [[k, v] for k, v in seen.items()]))
    publish(claims(seen))


if __name__ == "__main__":
    main()
