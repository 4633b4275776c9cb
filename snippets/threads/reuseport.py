"""SO_REUSEPORT lets several listeners share a port; the kernel spreads connections."""

from __future__ import annotations

import contextlib
import errno
import socket
from concurrent.futures import ThreadPoolExecutor

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
SERVED = check("reuseport-all-accepted", "of {clients} connections, not accepted by "
               "any listener: {bound}", equals(0))
FEWEST = finding("reuseport-fewest", "the least busy of {listeners} SO_REUSEPORT "
                 "listeners got {bound} an even share", at_least(0.5), unit="x")
MOST = finding("reuseport-most", "the busiest of {listeners} SO_REUSEPORT listeners "
               "got {bound} an even share", at_most(1.5), unit="x")
IN_USE = finding("bind-without-reuseport", "without SO_REUSEPORT a second bind to "
                 "the port fails with {bound}", equals("EADDRINUSE"))


def listener(port: int) -> socket.socket:
    if not hasattr(socket, "SO_REUSEPORT"):
        raise HostForbids("no SO_REUSEPORT on this platform (Linux has it since 3.9)")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((HOST, port))
    s.listen(512)
    s.settimeout(0.2)  # accept_all stops after this long with nothing to accept
    return s


def accept_all(sock: socket.socket) -> int:
    """Accept (and close) connections until none came for the listener's timeout."""
    accepted = 0
    with contextlib.suppress(TimeoutError):
        while True:
            sock.accept()[0].close()
            accepted += 1
    return accepted


def spread(listeners: int, clients: int) -> list[int]:
    """Connections accepted per listener, each listener with its own thread."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(listener(0))]
        port = socks[0].getsockname()[1]  # the first took a free port; share it
        socks += [stack.enter_context(listener(port)) for _ in range(listeners - 1)]
        for _ in range(clients):
            stack.enter_context(socket.create_connection((HOST, port), timeout=2))
        with ThreadPoolExecutor(listeners) as threads:
            return list(threads.map(accept_all, socks))


def measure(listeners: int = 4, clients: int = 400) -> dict:
    """The spread, and what a plain second socket gets binding a port in use."""
    counts = spread(listeners, clients)
    with socket.create_server((HOST, 0)) as first, socket.socket() as second:
        try:
            second.bind(first.getsockname())
            plain = "no error"
        except OSError as e:
            plain = errno.errorcode.get(e.errno, str(e.errno))
    return {"clients": clients, "counts": counts, "without_option": plain}


def claims(r: dict) -> list[Claim]:
    counts, clients = r["counts"], r["clients"]
    fair, n = clients / len(counts), {"listeners": len(counts)}
    return [SERVED.of(clients - sum(counts), clients=clients),
            FEWEST.of(min(counts) / fair, detail=f"{min(counts)} of {clients}", **n),
            MOST.of(max(counts) / fair, detail=f"{max(counts)} of {clients}", **n),
            IN_USE.of(r["without_option"])]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured([SERVED, FEWEST, MOST, IN_USE], why)
    print(f"{len(r['counts'])} listeners on one port, {r['clients']} connections")
    rows = [[f"listener {i + 1}", n] for i, n in enumerate(r["counts"])]
    print(table(["listener", "connections"], rows))
    print(f"without SO_REUSEPORT, a second bind: {r['without_option']}")
    publish(claims(r))


if __name__ == "__main__":
    main()
