"""What TCP does under connect, read and close, seen with real sockets on loopback:
the kernel completes the handshake before accept(), a read after the peer's close
returns b"", and a send to a closed peer succeeds once, then fails."""

from __future__ import annotations

import errno
import select
import socket

from snippets.report import Claim, publish, table

HOST = "127.0.0.1"


def outcome(fn) -> str:
    """What a call returned, or the errno name it raised."""
    try:
        return repr(fn())
    except OSError as e:
        return f"{type(e).__name__} ({errno.errorcode.get(e.errno, e.errno)})"


def measure() -> dict:
    """Each step in order; every wait bounded by a 2 s timeout."""
    seen: dict[str, str] = {}
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
                seen["accept() returns the client"] = str(
                    peer.getpeername() == client.getsockname())
                seen["server reads after accept()"] = outcome(lambda: peer.recv(16))
            seen["client reads after server close()"] = outcome(
                lambda: client.recv(16))
            seen["client sends to the closed peer"] = outcome(
                lambda: client.send(b"x"))
            select.select([client], [], [], 2)  # until the peer's RST arrives
            seen["client sends again"] = outcome(lambda: client.send(b"x"))
    return seen


EXPECTED = {
    "connect() before any accept()": "returned",
    "client sends before accept()": "2",
    "accept() returns the client": "True",
    "server reads after accept()": "b'hi'",
    "client reads after server close()": "b''",
    "client sends to the closed peer": "1",
    "client sends again": "BrokenPipeError (EPIPE)",
}
WHY = {
    "connect() before any accept()": "the kernel did the handshake (backlog)",
    "client sends before accept()": "the data waits in the server's kernel",
    "server reads after accept()": "what was sent before accept() is there",
    "client reads after server close()": "the FIN reads as end of stream",
    "client sends to the closed peer": "the kernel takes the bytes; the peer "
                                       "answers RST",
    "client sends again": "after the RST, writing is an error",
}


def claims(seen: dict) -> list[Claim]:
    return [Claim(f"{step}: {want} ({WHY[step]})" if step in WHY else
                  f"{step}: {want}", seen.get(step, "-"), seen.get(step) == want)
            for step, want in EXPECTED.items()]


def main() -> None:
    seen = measure()
    print(table(["step", "outcome"], [[k, v] for k, v in seen.items()]))
    publish(claims(seen))


if __name__ == "__main__":
    main()
