"""A pool of worker threads on one loopback listener: the timeouts demos' server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import namedtuple
from typing import Self

HOST = "127.0.0.1"
SAFETY = 10.0  # only so a bug cannot hang a build; far longer than any demo
Span = namedtuple("Span", "worker start end kind")  # a worker held a connection


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
