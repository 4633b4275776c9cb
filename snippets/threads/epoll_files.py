"""epoll watches a socket but refuses a regular file: an event loop can wait for
sockets, while a file read or write needs a thread (or io_uring) not to block."""

from __future__ import annotations

import errno
import select
import socket
import tempfile

from snippets.report import (
    Claim,
    HostForbids,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

SOCKET = check("epoll-takes-socket", "epoll_ctl(EPOLL_CTL_ADD) on a socket: {bound}",
               equals("added"))
FILE = finding("epoll-refuses-file", "epoll_ctl(EPOLL_CTL_ADD) on a regular file "
               "fails with {bound}", equals("EPERM"))


def register(fd: int) -> str:
    """What epoll_ctl(EPOLL_CTL_ADD) says about watching `fd` for reading."""
    with select.epoll() as ep:
        try:
            ep.register(fd, select.EPOLLIN)
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))
    return "added"


def measure() -> dict:
    if not hasattr(select, "epoll"):
        raise HostForbids("no epoll here: it is Linux's (BSDs and macOS have kqueue)")
    with socket.socket() as sock, tempfile.TemporaryFile() as file:
        return {"a TCP socket": register(sock.fileno()),
                "a regular file": register(file.fileno())}


def claims(r: dict) -> list[Claim]:
    return [SOCKET.of(r["a TCP socket"]), FILE.of(r["a regular file"])]


def main() -> None:
    try:
        r = measure()
    except HostForbids as why:
        return publish_unmeasured([SOCKET, FILE], why)
    print(table(["epoll_ctl(EPOLL_CTL_ADD) on", "result"], list(map(list, r.items()))))
    publish(claims(r))


if __name__ == "__main__":
    main()
