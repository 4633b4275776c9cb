"""How many waiting threads one new connection wakes: in accept() on one listener
the kernel wakes one; each in epoll_wait() on that listener, every one wakes (the
herd nginx's accept_mutex avoids), unless each registered it with EPOLLEXCLUSIVE."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import statistics
import threading
import time
from pathlib import Path

from snippets.report import (
    Claim,
    HostForbids,
    at_least,
    at_most,
    finding,
    publish,
    publish_unmeasured,
    table,
)

HOST, THREADS, CONNECTIONS, SETTLE = "127.0.0.1", 4, 10, 0.02
WAYS = ("accept()", "epoll", "epoll + EPOLLEXCLUSIVE")
FOUND = [finding("accept-wakes-one", "{threads} threads blocked in accept() on one "
                 "listener: threads woken per connection {bound}", at_most(1.5)),
         finding("epoll-wakes-all", "{threads} threads in epoll_wait() on that "
                 "listener: threads woken per connection {bound}", at_least(3)),
         finding("epollexclusive-wakes-one", "the same with EPOLLEXCLUSIVE: "
                 "threads woken per connection {bound}", at_most(1.5))]


def sleeps(tid: int) -> int:
    """How often the thread has gone to sleep: each wake-up ends in one more."""
    status = Path(f"/proc/self/task/{tid}/status").read_text()
    return int(status.split("voluntary_ctxt_switches:")[1].split()[0])


def wait(sock: socket.socket, way: str, stop: int, done: list) -> None:
    """Accept connections, waiting the given way, until `stop` is readable."""
    if way == WAYS[0]:  # a blocking accept() sleeps in the kernel
        with contextlib.suppress(OSError):  # shutdown() ends it
            while True:
                sock.accept()[0].close()
                done.append(way)
        return
    flags = select.EPOLLEXCLUSIVE if way == WAYS[2] else 0
    with select.epoll() as ep:
        ep.register(sock, select.EPOLLIN | flags)
        ep.register(stop, select.EPOLLIN)
        while stop not in (fd for fd, _ in ep.poll()):
            with contextlib.suppress(BlockingIOError):  # another thread took it
                sock.accept()[0].close()
                done.append(way)


def woken(way: str, threads: int, connections: int) -> list[int]:
    """Per connection, how many of the waiting threads woke up for it."""
    done: list = []
    stop, wake = os.pipe()
    with socket.create_server((HOST, 0)) as sock:
        sock.setblocking(way == WAYS[0])  # epoll's threads must not block in accept
        workers = [threading.Thread(target=wait, args=(sock, way, stop, done))
                   for _ in range(threads)]
        try:
            for w in workers:
                w.start()
            time.sleep(SETTLE)  # every thread asleep in its wait
            counts, tids = [], [w.native_id for w in workers]
            for n in range(1, connections + 1):
                before = [sleeps(t) for t in tids]
                socket.create_connection(sock.getsockname(), timeout=2).close()
                deadline = time.monotonic() + 2
                while len(done) < n and time.monotonic() < deadline:
                    time.sleep(0.001)
                time.sleep(SETTLE)  # every woken thread runs and sleeps again
                counts.append(sum(sleeps(t) != b for t, b in zip(tids, before)))
            return counts
        finally:
            os.write(wake, b"x")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes threads still in accept()
            for w in workers:
                w.join(timeout=2)
            os.close(stop)
            os.close(wake)


def measure(threads: int = THREADS, connections: int = CONNECTIONS) -> dict:
    if not (hasattr(select, "EPOLLEXCLUSIVE") and Path("/proc/self/task").is_dir()):
        raise HostForbids("needs Linux: epoll with EPOLLEXCLUSIVE (4.5 and later) "
                          "and /proc to count wake-ups")
    return {"threads": threads, **{w: woken(w, threads, connections) for w in WAYS}}


def claims(r: dict) -> list[Claim]:
    return [e.of(statistics.median(r[w]), detail=f"median of {len(r[w])} "
                 "connections", threads=r["threads"]) for e, w in zip(FOUND, WAYS)]


def main() -> None:
    try:
        r = measure()
    except HostForbids as why:
        return publish_unmeasured(FOUND, why, threads=THREADS)
    print(f"{r['threads']} threads wait on one listener; one connection at a time")
    print(table(["threads wait in", "woken per connection (median)", "fewest",
                 "most"], [[w, f"{statistics.median(r[w]):g}", min(r[w]), max(r[w])]
                           for w in WAYS]))
    publish(claims(r))


if __name__ == "__main__":
    main()
