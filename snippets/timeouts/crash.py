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
from snippets.report import Claim, publish, table
from snippets.timeouts._servers import HOST

# The client: connect, say hello, then hang without ever reading (until killed).
CLIENT = ("import socket, sys, time\n"
          "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
          "s.sendall(b'hello'); time.sleep(30)")


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
    return [
        Claim("the server sees a killed client's FIN: recv() returns EOF", quiet,
              quiet == "EOF (FIN)"),
        Claim("a client killed with unread data sends a RST instead", unread,
              unread == "ECONNRESET (RST)"),
        Claim("both arrive at once: well within a second of the kill",
              f"{s1:.2f} s, {s2:.2f} s", max(s1, s2) < 1.0, timing=True),
    ]


def main() -> None:
    checked = check_timing(measure, claims)
    print(table(["client process", "server's recv() sees", "after s"],
                [[name, seen, f"{s:.2f}"]
                 for name, (seen, s) in checked.result.items()]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
