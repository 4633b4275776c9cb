"""What the timeouts demos share: HTTP-ish helpers and two ways to limit a read."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from snippets.measure import check_timing
from snippets.report import Claim, between, check, equals, publish, table
from snippets.timeouts._pool import HOST, SAFETY, WorkerPool

__all__ = ["HOST", "OK", "WorkerPool", "ask", "get", "keep_alive", "read_head", "reply"]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# the self-check's claims (main): the plumbing every demo stands on
ANSWERS = check("pool-answers", "the pool answers a request: {bound}",
                equals("HTTP/1.1 200 OK"))
IDLE_CLOSE = check("pool-idle-close", "its 0.2 s idle timeout closes a quiet "
                   "connection after {bound}", between(0.19, 1.0), unit="s",
                   fmt=".2f", timing=True)
JOINED = check("pool-joins-threads", "threads left running after the pool: {bound}",
               equals(0))


def get(path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: demo\r\n\r\n".encode()


def reply(code: int, reason: str) -> bytes:
    return f"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\n\r\n".encode()


def read_head(conn: socket.socket, idle: float | None = None,
              deadline: float | None = None) -> bytes | None:
    """Read up to the blank line that ends a request header; None if a timeout fired
    or the peer left. `idle` bounds each recv, `deadline` the whole header."""
    end = time.monotonic() + (SAFETY if deadline is None else deadline)
    buf = b""
    while b"\r\n\r\n" not in buf:
        wait = SAFETY if idle is None else idle  # per recv: every byte restarts it
        wait = min(wait, end - time.monotonic())  # but never past the deadline
        conn.settimeout(max(wait, 1e-3))
        chunk = b""
        with contextlib.suppress(TimeoutError):
            chunk = conn.recv(4096)
        if not chunk:  # a timeout fired, or the peer left
            return None
        buf += chunk
    return buf


def keep_alive(conn: socket.socket, pool: WorkerPool, idle: float | None) -> str:
    """A keep-alive server loop: answer each request, close after `idle` s of quiet."""
    served = 0
    while read_head(conn, idle=idle) is not None:
        conn.sendall(OK)
        served += 1
    return f"served {served}"


def ask(address, path: str = "/", timeout: float = 1.0) -> str:
    """One request on a new connection: its status code, or "gave up" at `timeout`."""
    with socket.create_connection(address, timeout=timeout) as s:
        s.sendall(get(path))
        try:
            return (s.recv(1024).split(b" ") + [b"", b""])[1].decode() or "EOF"
        except TimeoutError:
            return "gave up"


def measure() -> dict:
    """One request answered, then the idle close: how long until the EOF."""
    threads = threading.active_count()
    with (WorkerPool(keep_alive, idle=0.2) as pool,
          socket.create_connection(pool.address, timeout=2) as c):
        c.sendall(get())
        answer, t0 = c.recv(64), time.monotonic()
        while c.recv(64):  # until the idle close: EOF
            pass
        quiet = time.monotonic() - t0
    return {"answer": answer.split(b"\r\n")[0].decode(), "quiet": quiet,
            "left": threading.active_count() - threads}


def claims(r: dict) -> list[Claim]:
    return [ANSWERS.of(r["answer"]), IDLE_CLOSE.of(r["quiet"]),
            JOINED.of(r["left"])]


def main() -> None:
    """Self-check: one request answered, the idle close seen, nothing left behind."""
    checked = check_timing(measure, claims)
    r = checked.result
    print(table(["answer", "next recv", "threads left"],
                [[r["answer"], f"EOF after {r['quiet']:.1f} s idle", r["left"]]]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
