"""SO_REUSEPORT lets several listeners share a port; the kernel spreads connections."""

from __future__ import annotations

import errno
import socket
import threading

from snippets.report import Claim, publish, table

HOST = "127.0.0.1"


def listener(port: int, reuse: bool = True) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((HOST, port))
    s.listen(512)
    s.settimeout(0.2)
    return s


def accept_all(sock: socket.socket, conns: list) -> None:
    """Accept until the listener has had nothing to accept for its timeout."""
    while True:
        try:
            conns.append(sock.accept()[0])
        except TimeoutError:
            return


def spread(listeners: int, clients: int) -> list[int]:
    """Connections accepted per listener, each listener with its own thread."""
    socks, clis, lists = [listener(0)], [], [[] for _ in range(listeners)]
    try:
        port = socks[0].getsockname()[1]  # the first took a free port; share it
        socks += [listener(port) for _ in range(listeners - 1)]
        for _ in range(clients):
            clis.append(socket.create_connection((HOST, port), timeout=2))
        threads = [threading.Thread(target=accept_all, args=(s, conns))
                   for s, conns in zip(socks, lists, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
    finally:
        for s in [c for conns in lists for c in conns] + clis + socks:
            s.close()
    return [len(conns) for conns in lists]


def second_bind_without_option() -> str:
    """The errno name when a second plain socket binds a port already in use."""
    with listener(0, reuse=False) as first, socket.socket() as second:
        try:
            second.bind((HOST, first.getsockname()[1]))
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))
    return "no error"


def measure(listeners: int = 4, clients: int = 400) -> dict:
    return {"clients": clients, "counts": spread(listeners, clients),
            "without_option": second_bind_without_option()}


def claims(r: dict) -> list[Claim]:
    counts, clients, plain = r["counts"], r["clients"], r["without_option"]
    return [
        Claim(f"all {clients} connections were accepted", str(sum(counts)),
              sum(counts) == clients),
        Claim(f"each of {len(counts)} listeners got >= 10% of them",
              f"fewest {min(counts)}", min(counts) >= clients // 10),
        Claim("without SO_REUSEPORT the second bind fails with EADDRINUSE", plain,
              plain == "EADDRINUSE"),
    ]


def main() -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        print("not measured here: no SO_REUSEPORT on this platform (Linux >= 3.9)")
        return publish([])
    r = measure()
    print(f"{len(r['counts'])} listeners on one port, {r['clients']} connections")
    rows = [[f"listener {i + 1}", n] for i, n in enumerate(r["counts"])]
    print(table(["listener", "connections"], rows))
    print(f"without SO_REUSEPORT, a second bind: {r['without_option']}")
    publish(claims(r))


if __name__ == "__main__":
    main()
