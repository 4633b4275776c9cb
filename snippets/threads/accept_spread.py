"""Threads blocked in accept() on one socket share its queue; with SO_REUSEPORT each
thread has its own listener and the kernel spreads connections by hashing them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from snippets.report import (
    Claim,
    HostForbids,
    NotMeasurable,
    at_least,
    at_most,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

HOST = "127.0.0.1"
SERVED = check("accept-all-served", "of {clients} connections each way, not "
               "accepted by a thread: {bound}", equals(0))
FEWEST = finding("accept-reuseport-fewest", "with a SO_REUSEPORT listener each, the "
                 "least busy of {threads} threads got {bound} an even share",
                 at_least(0.5), unit="x")
MOST = finding("accept-reuseport-most", "with a SO_REUSEPORT listener each, the "
               "busiest of {threads} threads got {bound} an even share",
               at_most(1.5), unit="x")


def listener(port: int = 0, reuse: bool = False) -> socket.socket:
    if reuse and not hasattr(socket, "SO_REUSEPORT"):
        raise HostForbids("no SO_REUSEPORT on this platform (Linux has it since 3.9)")
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((HOST, port))
    s.listen(512)
    return s  # blocking: each thread really sleeps inside accept()


def serve(sock: socket.socket, counts: list[int], i: int) -> None:
    """Block in accept() until the listener is shut down; count what it hands us."""
    with contextlib.suppress(OSError):
        while True:
            sock.accept()[0].close()
            counts[i] += 1


def run(threads: int, clients: int, reuse: bool) -> list[int]:
    """Connections accepted by each thread: one shared listener, or one each."""
    first = listener(reuse=reuse)
    port = first.getsockname()[1]
    socks = [first] + [listener(port, True) for _ in range(threads - 1)] if reuse \
        else [first] * threads
    counts = [0] * threads
    workers = [threading.Thread(target=serve, args=(s, counts, i))
               for i, s in enumerate(socks)]
    try:
        for w in workers:
            w.start()
        for _ in range(clients):
            socket.create_connection((HOST, port), timeout=2).close()
        deadline = time.monotonic() + 3
        while sum(counts) < clients and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        for s in set(socks):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)  # wakes every thread blocked in accept
            s.close()
        for w in workers:
            w.join(timeout=2)
    return counts


def measure(threads: int = 4, clients: int = 400) -> dict:
    return {"clients": clients, "shared": run(threads, clients, False),
            "reuseport": run(threads, clients, True)}


def spread(counts: list[int]) -> str:
    return f"{max(counts) / min(counts):.1f}" if min(counts) else "inf"


def claims(r: dict) -> list[Claim]:
    n, counts = r["clients"], r["reuseport"]
    fair, threads = n / len(counts), {"threads": len(counts)}
    return [SERVED.of(abs(n - sum(r["shared"])) + abs(n - sum(counts)), clients=n),
            FEWEST.of(min(counts) / fair, detail=f"{min(counts)} of {n}", **threads),
            MOST.of(max(counts) / fair, detail=f"{max(counts)} of {n}", **threads)]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured([SERVED, FEWEST, MOST], why)
    print(f"{len(r['shared'])} threads in accept(), {r['clients']} connections")
    rows = [[how, *sorted(r[how], reverse=True), spread(r[how])]
            for how in ("shared", "reuseport")]
    heads = [f"t{i + 1}" for i in range(len(r["shared"]))]
    print(table(["listener(s)", *heads, "max / min"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
