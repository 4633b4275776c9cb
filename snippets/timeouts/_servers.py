"""The loopback server the timeouts demos share: a pool of workers, two read limits."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import namedtuple
from typing import Self

HOST = "127.0.0.1"
SAFETY = 10.0  # only so a bug cannot hang a build; far longer than any demo
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
Span = namedtuple("Span", "worker start end kind")  # a worker held a connection


def get(path: str = "/") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: demo\r\n\r\n".encode()


def reply(code: int, reason: str) -> bytes:
    return f"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\n\r\n".encode()


class WorkerPool:
    """`workers` threads share one listener; each serves one connection at a time with
    `serve(conn, pool, **options)`, which returns a label for the timeline. Leaving
    the `with` block shuts every held connection and joins every thread."""

    def __init__(self, serve, workers: int = 2, **options):
        self.serve, self.options, self.spans = serve, options, []
        self.held: set[socket.socket] = set()  # the connections workers serve now
        self.stopping, self.lock = threading.Event(), threading.Lock()
        self.threads = [threading.Thread(target=self._work, args=(i,))
                        for i in range(workers)]

    def now(self) -> float:
        return time.monotonic() - self.t0

    def __enter__(self) -> Self:
        self.listener = socket.create_server((HOST, 0), backlog=64)
        self.listener.settimeout(0.05)  # so an idle worker soon sees `stopping`
        self.address, self.t0 = self.listener.getsockname(), time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def _work(self, worker: int) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                conn, _ = self.listener.accept()
                with self.lock:
                    self.held.add(conn)
                start, kind = self.now(), "error"
                with conn, contextlib.suppress(OSError):
                    conn.settimeout(SAFETY)
                    if not self.stopping.is_set():  # else __exit__ already shut it
                        kind = self.serve(conn, self, **self.options)
                with self.lock:
                    self.held.discard(conn)
                self.spans.append(Span(worker, start, self.now(), kind))

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        with self.lock:
            for conn in self.held:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked in recv
        for t in self.threads:
            t.join(timeout=SAFETY)
        self.listener.close()


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


def main() -> None:
    """Self-check: one request answered, the idle close seen, nothing left behind."""
    from snippets.report import Claim, publish, table

    threads = threading.active_count()
    with (WorkerPool(keep_alive, idle=0.2) as pool,
          socket.create_connection(pool.address, timeout=2) as c):
        c.sendall(get())
        answer, t0 = c.recv(64), time.monotonic()
        eof, quiet = c.recv(64), time.monotonic() - t0  # until the idle close
    left = threading.active_count() - threads
    print(table(["answer", "next recv", "threads left"],
                [[answer[:15].decode(), f"{eof!r} after {quiet:.1f} s idle", left]]))
    publish([Claim("a request is answered", repr(answer[:15]), answer == OK),
             Claim("the idle timeout closes a quiet connection, not before 0.2 s",
                   f"EOF after {quiet:.2f} s", eof == b"" and quiet >= 0.19),
             Claim("leaving the pool joins its threads", f"{left} left", left == 0)])


if __name__ == "__main__":
    main()
