"""A TCP connection on loopback with a sender thread, for the copy-counting demos.

Not a demo. Both ends stay blocking (splice needs that) with kernel timeouts
(SO_RCVTIMEO, SO_SNDTIMEO), so no wait is unbounded; everything is closed on exit.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TIMEOUT = struct.pack("ll", 10, 0)  # struct timeval: 10 s


def _bounded(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, TIMEOUT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, TIMEOUT)
    return sock


@contextmanager
def connection(send: Callable[[socket.socket], None]) -> Iterator[socket.socket]:
    """The receiving end of a 127.0.0.1 connection whose other end runs send(sock)
    on a thread, then closes (so the receiver sees the end of the stream)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        out = _bounded(socket.create_connection(server.getsockname(), timeout=10))
        out.settimeout(None)
        server.settimeout(10)
        into = _bounded(server.accept()[0])
        into.settimeout(None)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            send(out)
        except BaseException as error:  # noqa: BLE001 - re-raised by the receiver
            errors.append(error)
        finally:
            out.close()

    sender = threading.Thread(target=run)
    sender.start()
    try:
        yield into
    finally:
        into.close()  # unblocks a sender still writing
        sender.join(timeout=15)
    if errors:
        raise errors[0]


def send_all(payload: bytes) -> Callable[[socket.socket], None]:
    """Send from a buffer in user memory: the kernel copies every byte out of it."""
    return lambda sock: sock.sendall(payload)


def send_file(fd: int, size: int) -> Callable[[socket.socket], None]:
    """sendfile(2): the kernel sends the file's pages, no byte passes user memory."""
    def send(sock: socket.socket) -> None:
        offset = 0
        while offset < size:
            offset += os.sendfile(sock.fileno(), fd, offset, size - offset)
    return send
