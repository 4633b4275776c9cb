"""SO_REUSEPORT lets several listeners share a port; the kernel spreads connections."""

from __future__ import annotations

import contextlib
import errno
import socket
from concurrent.futures import ThreadPoolExecutor

from snippets.report import Claim, publish, table

HOST = "127.0.0.1"


def listener(port: int) -> socket.socket:
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
    with socket.create_server((HOST, 0)) as first, socket.socket() as second:
        try:
            second.bind(first.getsockname())
            plain = "no error"
        except OSError as e:
            plain = errno.errorcode.get(e.errno, str(e.errno))
    return {"clients": clients, "counts": spread(listeners, clients),
            "without_option": plain}


def claims(r: dict) -> list[Claim]:
    counts, clients, plain = r["counts"], r["clients"], r["without_option"]
    return [
        Claim(f"all {clients} connections were accepted", str(sum(counts)),
              sum(counts) == clients),
        Claim(f"each of {len(counts)} listeners got between 0.5x and 1.5x a fair "
              f"share ({clients / len(counts):g})",
              f"fewest {min(counts)}, most {max(counts)}",
              clients / 2 <= min(counts) * len(counts)
              and max(counts) * len(counts) <= clients * 1.5),
        Claim("without SO_REUSEPORT the second bind fails with EADDRINUSE", plain,
              plain == "EADDRINUSE"),
    ]


def main() -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        print("not checked here: no SO_REUSEPORT on this platform (Linux >= 3.9)")
        return publish([Claim.not_checked("SO_REUSEPORT spreads connections",
                                          "no SO_REUSEPORT on this platform")])
    r = measure()
    print(f"{len(r['counts'])} listeners on one port, {r['clients']} connections")
    rows = [[f"listener {i + 1}", n] for i, n in enumerate(r["counts"])]
    print(table(["listener", "connections"], rows))
    print(f"without SO_REUSEPORT, a second bind: {r['without_option']}")
    publish(claims(r))


if __name__ == "__main__":
    main()
