"""A proxy that opens a new upstream connection per request runs out of source ports
under a bounded load and answers 502 (EADDRNOTAVAIL); a small pool of kept-alive
upstream connections serves the same load with a handful of ports."""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading

from snippets.ephemeral_ports._ports import in_namespace, sockets, unchecked
from snippets.report import Claim, publish, table
from snippets.svg import line_chart

LOW, HIGH = 40000, 40015  # 16 ports for the proxy's upstream connections
PROXY, UPSTREAM = ("127.0.0.1", 5000), ("127.0.0.1", 6000)
CLIENTS, REQUESTS = 4, 12  # 4 keep-alive clients, 12 requests each


def serve(listener: socket.socket, handle) -> None:
    """Accept until the listener closes; one thread per connection, line by line."""
    def lines(conn: socket.socket) -> None:
        with conn, conn.makefile("rwb", buffering=0) as f:
            for line in f:
                f.write(handle(line))
    with contextlib.suppress(OSError):
        while True:
            threading.Thread(target=lines, args=(listener.accept()[0],),
                             daemon=True).start()


def proxy_handler(pooled: bool, log: list):
    """The proxy's request handler; `log` gets (upstream ok?, ports in use) per
    request, in the order the proxy took its upstream connections."""
    idle: queue.SimpleQueue = queue.SimpleQueue()
    lock = threading.Lock()

    def handle(line: bytes) -> bytes:
        with lock:  # one upstream connect at a time, so the log's order is exact
            try:
                up = idle.get_nowait()
            except queue.Empty:
                try:
                    up = socket.create_connection(UPSTREAM, timeout=2)
                except OSError as exc:
                    up = exc
            log.append((isinstance(up, socket.socket), upstream_ports()))
        if isinstance(up, OSError):  # what the user sees: a 502 naming the errno
            return f"502 {os.strerror(up.errno)}\n".encode()
        up.sendall(line)
        reply = up.makefile("rb").readline()
        if pooled:
            idle.put(up)
        else:
            up.close()  # the proxy closes first: the TIME_WAIT is on its port
        return reply
    return handle


def client(index: int, replies: list) -> None:
    with socket.socket() as c:
        c.bind(("127.0.0.1", 7000 + index))  # fixed, outside the range
        c.connect(PROXY)
        f = c.makefile("rwb", buffering=0)
        for _ in range(REQUESTS):
            f.write(b"GET /\n")
            replies.append(f.readline().decode().strip())


def upstream_ports() -> int:
    """Proxy-side upstream sockets holding a port: open or in TIME_WAIT."""
    return sum(LOW <= s.local_port <= HIGH and s.remote_port == UPSTREAM[1]
               for s in sockets())


def load(pooled: bool) -> dict:
    """Run the load through one proxy: what the clients got, what the proxy did."""
    log, replies = [], []
    with socket.create_server(UPSTREAM, backlog=64) as up, \
            socket.create_server(PROXY, backlog=64) as px:
        for lst, h in ((up, lambda _: b"200 OK\n"), (px, proxy_handler(pooled, log))):
            threading.Thread(target=serve, args=(lst, h), daemon=True).start()
        workers = [threading.Thread(target=client, args=(i, replies))
                   for i in range(CLIENTS)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=5)
        for lst in (up, px):
            lst.shutdown(socket.SHUT_RDWR)  # wakes the accept loops
    return {"replies": replies, "log": log}


def measure() -> dict:
    runs, reason = {}, None
    for name, pooled in (("new connection per request", False), ("pool", True)):
        runs[name], reason = in_namespace(
            load, pooled, tiny=False, sysctls={"net.ipv4.tcp_tw_reuse": 0,
                                               "net.ipv4.ip_local_port_range":
                                               f"{LOW} {HIGH}"})
    return {"runs": None if reason else runs, "reason": reason}


def claims(r: dict) -> list[Claim]:
    n, size = CLIENTS * REQUESTS, HIGH - LOW + 1
    statements = [f"per-request upstream connections: the first {size} of {n} "
                  "requests pass, every later one gets 502 EADDRNOTAVAIL",
                  f"with a pool all {n} pass on at most {CLIENTS} upstream ports"]
    if r["reason"]:
        return unchecked(statements, r["reason"])
    naive, pool = r["runs"].values()
    errors = sorted({x for x in naive["replies"] if not x.startswith("200")})
    passed = [ok for ok, _ in naive["log"]]
    ports = max(p for _, p in pool["log"])
    return [Claim(statements[0], f"{passed.count(True)} passed, then {errors}",
                  passed == [True] * size + [False] * (n - size)
                  and sum(x.startswith("200") for x in naive["replies"]) == size
                  and errors == [f"502 {os.strerror(99)}"]),
            Claim(statements[1], f"{sum(x.startswith('200') for x in pool['replies'])}"
                  f" passed on {ports} ports", len(pool["replies"]) == n
                  and all(x.startswith("200") for x in pool["replies"])
                  and ports <= CLIENTS)]


def main() -> None:
    r = measure()
    if not r["runs"]:
        print(r["reason"])
        publish(claims(r))
        return
    rows = []
    for name, v in r["runs"].items():
        ok = sum(x.startswith("200") for x in v["replies"])
        first = next((x for x in v["replies"] if not x.startswith("200")), "-")
        rows.append([name, len(v["replies"]), ok, len(v["replies"]) - ok,
                     max(p for _, p in v["log"]), first])
    print(f"{CLIENTS} clients x {REQUESTS} requests, {HIGH - LOW + 1} source ports, "
          "tcp_tw_reuse=0\n")
    print(table(["proxy", "requests", "200", "errors", "max ports", "first error"],
                rows))
    n = CLIENTS * REQUESTS
    series = {short: [(i + 1, p) for i, (_, p) in enumerate(v["log"])
                      if (i + 1) % 4 == 0]
              for short, v in zip(("per request", "pool"), r["runs"].values())}
    series["range size"] = [(4, HIGH - LOW + 1), (n, HIGH - LOW + 1)]
    chart = line_chart("Upstream source ports in use", "requests handled",
                       "ports (open or TIME_WAIT)", series)
    publish(claims(r), figures={"proxy_ports": chart})


if __name__ == "__main__":
    main()
