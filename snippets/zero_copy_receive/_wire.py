"""A TCP connection on loopback with a sender thread, for the copy-counting demos.

Not a demo. Both ends stay blocking (splice needs that) with kernel timeouts
(SO_RCVTIMEO, SO_SNDTIMEO), so no wait is unbounded; everything is closed on exit.
With `queued`, the receiver gets the socket only once the sender has finished and
every byte waits in its receive queue: receiving then never waits for the network.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import termios
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from snippets.report import HostForbids

TIMEOUT = struct.pack("ll", 10, 0)  # struct timeval: 10 s
RMEM_MAX = Path("/proc/sys/net/core/rmem_max")


def bounded(sock: socket.socket) -> socket.socket:
    """Blocking, with kernel timeouts: a call fails after 10 s instead of hanging."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, TIMEOUT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, TIMEOUT)
    return sock


def waiting(sock: socket.socket) -> int:
    """Bytes in the socket's receive queue (FIONREAD, also called SIOCINQ)."""
    return struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, bytes(4)))[0]


def _until_queued(into: socket.socket, sender: threading.Thread, size: int) -> None:
    deadline = time.monotonic() + 5
    while sender.is_alive() or waiting(into) < size:
        if time.monotonic() > deadline:
            limit = RMEM_MAX.read_text().strip() if RMEM_MAX.exists() else "?"
            raise HostForbids(f"a TCP socket here queues only {waiting(into):,} of "
                              f"{size:,} bytes (net.core.rmem_max = {limit}; "
                              f"sysctl -w net.core.rmem_max={2 * size} raises it)")
        if not sender.is_alive():  # the rest waits for a window update: ACK now
            into.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        time.sleep(0.001)


@contextmanager
def connection(send: Callable[[socket.socket], None],
               queued: int = 0) -> Iterator[socket.socket]:
    """The receiving end of a 127.0.0.1 connection whose other end runs send(sock)
    on a thread, then closes (so the receiver sees the end of the stream). With
    `queued`, wait until the sender is done and that many bytes wait to be read."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        if queued:  # set before connecting: the connection inherits it
            server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 * queued)
        out = bounded(socket.create_connection(server.getsockname(), timeout=10))
        out.settimeout(None)
        server.settimeout(10)
        into = bounded(server.accept()[0])
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
        if queued:
            _until_queued(into, sender, queued)
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
