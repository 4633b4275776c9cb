"""Threads blocked in accept() on one socket share its queue; with SO_REUSEPORT each
thread has its own listener and the kernel spreads connections by hashing them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from snippets.report import Claim, publish, table

HOST = "127.0.0.1"


def listener(port: int = 0, reuse: bool = False) -> socket.socket:
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
    n, fair = r["clients"], r["clients"] / len(r["reuseport"])
    out = [Claim(f"{how}: every one of {n} connections went to exactly one thread",
                 str(sum(r[how])), sum(r[how]) == n) for how in ("shared", "reuseport")]
    counts = r["reuseport"]
    return out + [Claim(f"SO_REUSEPORT: each of {len(counts)} listeners got between "
                        f"0.5x and 1.5x a fair share ({fair:g})",
                        f"fewest {min(counts)}, most {max(counts)}",
                        0.5 * fair <= min(counts) and max(counts) <= 1.5 * fair)]


def main() -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        print("not checked here: no SO_REUSEPORT on this platform (Linux >= 3.9)")
        return publish([Claim.not_checked("SO_REUSEPORT spreads connections",
                                          "no SO_REUSEPORT on this platform")])
    r = measure()
    print(f"{len(r['shared'])} threads in accept(), {r['clients']} connections")
    rows = [[how, *sorted(r[how], reverse=True), spread(r[how])]
            for how in ("shared", "reuseport")]
    heads = [f"t{i + 1}" for i in range(len(r["shared"]))]
    print(table(["listener(s)", *heads, "max / min"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
