"""The loopback server the timeouts demos share: a pool of workers, two read limits."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from snippets.report import Claim, publish, table

HOST = "127.0.0.1"
SAFETY = 10.0  # only so a bug cannot hang a build; far longer than any demo
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass(frozen=True)
class Span:
    """Worker `worker` held one connection from `start` to `end` (seconds)."""

    worker: int
    start: float
    end: float
    kind: str


class WorkerPool:
    """`workers` threads share one listener; each serves one connection at a time.

    `serve(conn, pool)` handles a connection and returns a label for the timeline.
    Leaving the `with` block shuts every held connection and joins every thread.
    """

    def __init__(self, serve: Callable[[socket.socket, WorkerPool], str], workers=2):
        self.serve, self.workers = serve, workers
        self.spans: list[Span] = []
        self.stopping = threading.Event()
        self._held: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.t0 = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def __enter__(self) -> WorkerPool:
        self.listener = socket.create_server((HOST, 0), backlog=64)
        self.listener.settimeout(0.05)
        self.address = self.listener.getsockname()
        self._threads = [threading.Thread(target=self._work, args=(i,))
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()
        return self

    def _work(self, worker: int) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                if self.stopping.is_set():  # __exit__ already shut the others
                    conn.close()
                    return
                self._held.add(conn)
            start, kind = self.now(), "error"
            try:
                conn.settimeout(SAFETY)
                kind = self.serve(conn, self)
            except OSError:
                pass
            finally:
                with self._lock:
                    self._held.discard(conn)
                conn.close()
                self.spans.append(Span(worker, start, self.now(), kind))

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        with self._lock:
            for conn in self._held:
                try:
                    conn.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked in recv
                except OSError:
                    pass
        for t in self._threads:
            t.join(timeout=SAFETY)
        self.listener.close()


def read_head(conn: socket.socket, idle: float | None = None,
              deadline: float | None = None) -> bytes | None:
    """Read up to the blank line that ends a request header.

    `idle` bounds each recv (reset by every byte that arrives); `deadline` bounds
    the whole header. None when a timeout fired or the peer left first.
    """
    end = None if deadline is None else time.monotonic() + deadline
    buf = b""
    while b"\r\n\r\n" not in buf:
        wait = idle
        if end is not None:
            left = end - time.monotonic()
            if left <= 0:
                return None
            wait = left if wait is None else min(wait, left)
        conn.settimeout(SAFETY if wait is None else wait)
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def keep_alive(idle: float | None) -> Callable[[socket.socket, WorkerPool], str]:
    """A keep-alive server loop: answer each request, close after `idle` s of quiet."""

    def serve(conn: socket.socket, pool: WorkerPool) -> str:
        served = 0
        while read_head(conn, idle=idle) is not None:
            conn.sendall(OK)
            served += 1
        return f"served {served}"

    return serve


def main() -> None:
    """Self-check: one request answered, the idle close seen, nothing left behind."""
    threads = threading.active_count()
    with WorkerPool(keep_alive(idle=0.2), workers=2) as pool:
        with socket.create_connection(pool.address, timeout=2) as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: demo\r\n\r\n")
            answer, t0 = c.recv(64), time.monotonic()
            eof, quiet = c.recv(64), time.monotonic() - t0  # until the idle close
    left = threading.active_count() - threads
    print(table(["check", "result"], [["answer", answer.split(b"\r\n")[0].decode()],
                                       ["then", f"{eof!r} after {quiet:.1f} s idle"],
                                       ["threads left", left]]))
    publish([Claim("a request is answered", repr(answer[:15]), answer == OK),
             Claim("the idle timeout closes a quiet connection after about 0.2 s",
                   f"EOF after {quiet:.2f} s", eof == b"" and 0.15 <= quiet < 1.5),
             Claim("leaving the pool joins its threads", f"{left} left", left == 0)])


if __name__ == "__main__":
    main()
