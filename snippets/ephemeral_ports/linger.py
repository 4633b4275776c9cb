"""close() goes on sending what was written, and the peer reads all of it; close()
with SO_LINGER {1, 0} resets the connection at once, and whatever had not reached
the peer yet is thrown away."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

from snippets.ephemeral_ports._ports import close, in_namespace
from snippets.report import (
    Claim,
    NotMeasurable,
    below,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

DEST = ("127.0.0.1", 5000)
CHUNK = b"x" * 65536
LIMIT = 64 * len(CHUNK)  # stop writing here if the send queue never fills
CASES = {"close()": False, "SO_LINGER {1,0}, close()": True}

ALL_READ = finding("close-delivers-all", "after a plain close(), the peer reads "
                   "{bound} of the bytes written", equals(1.0), fmt=".0%")
DROPPED = finding("linger-drops-unsent", "after SO_LINGER {{1,0}} and close(), the "
                  "peer reads {bound} of the bytes written", below(0.1), fmt=".1%")
ENDS = check("reads-end", "the peer's reads end with {bound}",
             equals(["EOF", "ECONNRESET"]))
ALL = [ALL_READ, DROPPED, ENDS]


@dataclass(frozen=True)
class Closed:
    written: int  # bytes send() took before close()
    read: int  # bytes the peer read afterwards
    end: str  # what ended the peer's reads: EOF, ECONNRESET or a timeout


def write_then_close(reset: bool) -> Closed:
    """Write until the send queue is full to a peer that is not reading, close (by
    reset, or not), then let the peer read everything it can."""
    with socket.socket() as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills up fast
        srv.bind(DEST)
        srv.listen()
        client = socket.create_connection(DEST, timeout=2)
        peer = srv.accept()[0]
    written = 0
    client.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while written < LIMIT:
            written += client.send(CHUNK)
    close([client], reset=reset)
    read, end = 0, "EOF"
    with peer:
        peer.settimeout(2)
        try:
            while data := peer.recv(len(CHUNK)):
                read += len(data)
        except ConnectionResetError:
            end = "ECONNRESET"
        except TimeoutError:
            end = "timeout"
    return Closed(written, read, end)


def both() -> dict[str, Closed]:
    return {name: write_then_close(reset) for name, reset in CASES.items()}


def measure() -> dict[str, Closed]:
    return in_namespace(both)


def share(c: Closed) -> float:
    return c.read / max(c.written, 1)


def claims(r: dict[str, Closed]) -> list[Claim]:
    plain, reset = r.values()
    return [ALL_READ.of(share(plain)), DROPPED.of(share(reset)),
            ENDS.of([plain.end, reset.end])]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    print(table(["how the client closes", "the peer reads", "then"],
                [[name, f"{share(v):.1%}", v.end] for name, v in r.items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
