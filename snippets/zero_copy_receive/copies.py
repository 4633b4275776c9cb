"""64 MiB over loopback, five ways: recv, recv_into and io_uring put every byte in the
program's memory, splice none; taking data already queued, that copy is what costs."""

from __future__ import annotations

import fcntl
import os
import statistics
import tempfile
import time
import zlib
from dataclasses import dataclass, field

from snippets import measure as timing
from snippets.report import (
    Claim,
    NotMeasurable,
    at_least,
    below,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.zero_copy_receive import _wire as wire
from snippets.zero_copy_receive._uring import Ring

SIZE, EACH, CHUNK = 64 << 20, 2 << 20, 1 << 20  # 32 connections of 2 MiB a way
BASE, URING = "sendall + recv_into", "sendall + io_uring recv"
COPYING = ("sendall + recv", BASE, URING)

DELIVERED = check("all-delivered", "every way delivers {bound}", equals([64]),
                  unit="MiB")
IN_USER = check("in-user-memory", "recv, recv_into and io_uring recv each put every "
                "byte in the program's memory, as sent (the CRC-32 of what it read "
                "matches): {bound}", equals([64, 64, 64]), unit="MiB")
SPLICE = finding("splice-cpu", "taking data already queued, splice costs the "
                 "receiving thread {bound} the CPU time of recv_into: it hands pages "
                 "to a pipe, recv_into copies every byte", below(0.5), unit="x",
                 fmt=".2f", timing=True)
NO_GAIN = finding("io-uring-cpu", "an io_uring receive, one request at a time, costs "
                  "{bound} the CPU time of recv_into: it copies the same bytes, "
                  "io_uring alone removes no copy", at_least(0.8), unit="x",
                  fmt=".2f", timing=True)


@dataclass
class Received:
    calls: int = 0  # receive-side system calls (the last one sees the end)
    total: int = 0  # bytes that arrived
    in_user: int = 0  # of those, bytes the program read from its own memory
    crc: int = 0  # CRC-32 of the bytes in its memory, in order
    cpu: float = 0.0  # this thread's CPU seconds inside the receive calls

    def call(self, receive, *args) -> int | bytes:
        """One receive-side call, counted and timed on this thread's CPU clock."""
        start = time.thread_time()
        result = receive(*args)
        self.cpu += time.thread_time() - start
        self.calls += 1
        return result

    def keep(self, data) -> None:
        """Bytes that landed in the program's memory: it reads them to hash them."""
        self.total, self.in_user = self.total + len(data), self.in_user + len(data)
        self.crc = zlib.crc32(data, self.crc)


def by_recv(sock) -> Received:
    """Each call returns a new bytes object holding a copy of what arrived."""
    got = Received()
    while data := got.call(sock.recv, CHUNK):
        got.keep(data)
    return got


def by_recv_into(sock) -> Received:
    """Each call copies into the same buffer: no new object."""
    got, buf = Received(), bytearray(CHUNK)
    while n := got.call(sock.recv_into, buf):
        got.keep(memoryview(buf)[:n])
    return got


def by_io_uring(sock) -> Received:
    """IORING_OP_RECV into one buffer, one io_uring_enter per receive."""
    got, buf = Received(), bytearray(CHUNK)
    with Ring() as ring:
        while n := got.call(ring.recv_into, sock.fileno(), buf):
            got.keep(memoryview(buf)[:n])
    return got


def by_splice(sock) -> Received:
    """Socket -> pipe -> /dev/null: pages move between kernel buffers only."""
    got = Received()
    (pipe_r, pipe_w), null = os.pipe(), os.open(os.devnull, os.O_WRONLY)
    try:
        try:
            fcntl.fcntl(pipe_w, fcntl.F_SETPIPE_SZ, CHUNK)
        except OSError:
            pass  # above fs.pipe-max-size: the default pipe takes 64 KiB a call
        while n := got.call(os.splice, sock.fileno(), pipe_w, CHUNK):
            got.total += got.call(os.splice, pipe_r, null, n)
        return got
    finally:
        for fd in (pipe_r, pipe_w, null):
            os.close(fd)


def ways(payload: bytes, file_fd: int) -> dict:
    """(sender, receiver) for each way of moving the same bytes."""
    return {"sendall + recv": (wire.send_all(payload), by_recv),
            BASE: (wire.send_all(payload), by_recv_into),
            URING: (wire.send_all(payload), by_io_uring),
            "sendall + splice": (wire.send_all(payload), by_splice),
            "sendfile + splice": (wire.send_file(file_fd, len(payload)), by_splice)}


@dataclass
class Way:
    """One way's 64 MiB, summed over its connections."""

    calls: int = 0
    total: int = 0
    intact: int = 0  # bytes in the program's memory whose CRC-32 matched the sender's
    cpu: list[float] = field(default_factory=list)  # CPU seconds, one per connection


def measure(rounds: int = SIZE // EACH) -> dict[str, Way]:
    """Each round, one connection per way, interleaved; each sender finishes and its
    2 MiB wait in the socket before the receiver starts, so it never waits."""
    payload = os.urandom(EACH)
    sent = zlib.crc32(payload)
    result: dict[str, Way] = {}
    with tempfile.TemporaryFile(dir="/dev/shm" if os.path.isdir("/dev/shm")
                                else None) as file:
        file.write(payload)
        file.flush()
        for _ in range(rounds):
            for name, (send, receive) in ways(payload, file.fileno()).items():
                with wire.connection(send, queued=EACH) as sock:
                    got = receive(sock)
                way = result.setdefault(name, Way())
                way.calls, way.total = way.calls + got.calls, way.total + got.total
                way.intact += got.in_user if got.crc == sent else 0
                way.cpu.append(got.cpu)
    return result


def ratios(r: dict[str, Way]) -> dict[str, list[float]]:
    """Each way's CPU time over recv_into's, connection by connection, sorted."""
    cpu = {k: v.cpu for k, v in r.items()}
    return {k: sorted(timing.paired_ratios(cpu, k, BASE)) for k in cpu}


def claims(r: dict[str, Way]) -> list[Claim]:
    rel = {k: statistics.median(v) for k, v in ratios(r).items()}
    detail = f"median of {len(r[BASE].cpu)} connections"
    return [DELIVERED.of(sorted({v.total >> 20 for v in r.values()})),
            IN_USER.of([r[k].intact >> 20 for k in COPYING]),
            SPLICE.of(rel["sendall + splice"], detail),
            NO_GAIN.of(rel[URING], detail)]


def main() -> None:
    try:
        checked = timing.check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured([DELIVERED, IN_USER, SPLICE, NO_GAIN], why)
    r, rel = checked.result, ratios(checked.result)
    print(table(["sender + receiver", "calls", "in user memory", "CPU / recv_into",
                 "(min-max)"],
                [[k, v.calls, f"{v.intact >> 20} MiB",
                  f"{statistics.median(rel[k]):.2f}",
                  f"{rel[k][0]:.2f}-{rel[k][-1]:.2f}"] for k, v in r.items()]))
    print(f"{len(rel[BASE])} connections of {EACH >> 20} MiB each way, interleaved; "
          "calls counted in-process;\nCPU: the receiving thread's, in its receive "
          "calls, connection by connection")
    publish(checked.claims)


if __name__ == "__main__":
    main()
