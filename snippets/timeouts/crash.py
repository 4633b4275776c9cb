"""A killed process leaves no one waiting: its kernel closes its sockets, with a FIN,
or with a RST when it dies holding unread data."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import Claim, below, equals, finding, publish, table
from snippets.timeouts._servers import HOST

# The client: connect, say hello, then hang without ever reading (until killed).
CLIENT = ("import socket, sys, time\n"
          "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
          "s.sendall(b'hello'); time.sleep(30)")

FIN = finding("killed-sends-fin", "the server's recv() from a killed client sees "
              "{bound}", equals("EOF (FIN)"))
RST = finding("killed-unread-sends-rst", "the server's recv() from a client killed "
              "holding unread data sees {bound}", equals("ECONNRESET (RST)"))
AT_ONCE = finding("crash-seen-at-once", "time from each kill to the server's recv() "
                  "returning, the longer of two: {bound}", below(1000), unit="ms",
                  timing=True)


def kill_client(unread: bool) -> tuple[str, float]:
    """Start a client process, kill -9 it; what does the server's recv() see?"""
    with socket.create_server((HOST, 0)) as srv:
        srv.settimeout(10)
        child = subprocess.Popen([sys.executable, "-c", CLIENT,
                                  str(srv.getsockname()[1])], start_new_session=True)
        try:
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(5)  # bounded: the FIN or RST comes far sooner
                conn.recv(5)  # its hello: the client is up and blocked in sleep
                if unread:
                    conn.sendall(b"data the client will never read")
                    time.sleep(0.05)  # let it land in the client's receive queue
                os.killpg(child.pid, signal.SIGKILL)  # no close(), no exit handler
                t0 = time.monotonic()
                try:
                    seen = "EOF (FIN)" if conn.recv(64) == b"" else "data"
                except ConnectionResetError:
                    seen = "ECONNRESET (RST)"
                except TimeoutError:
                    seen = "still waiting"
                return seen, time.monotonic() - t0
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            child.wait(timeout=5)


def measure() -> dict[str, tuple[str, float]]:
    with ThreadPoolExecutor(2) as ex:
        quiet, unread = ex.map(kill_client, [False, True])
    return {"killed, nothing unread": quiet, "killed holding unread data": unread}


def claims(r: dict[str, tuple[str, float]]) -> list[Claim]:
    (quiet, s1), (unread, s2) = r.values()
    return [FIN.of(quiet), RST.of(unread), AT_ONCE.of(max(s1, s2) * 1000)]


def main() -> None:
    checked = check_timing(measure, claims)
    print(table(["client process", "server's recv() sees", "after s"],
                [[name, seen, f"{s:.2f}"]
                 for name, (seen, s) in checked.result.items()]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
