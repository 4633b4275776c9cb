"""64 MiB over loopback: recv and io_uring copy every byte into user memory, splice
none; recv makes a new object per call, recv_into reuses one buffer."""

from __future__ import annotations

import os
import statistics
import tempfile
from dataclasses import dataclass

from snippets import measure as timing
from snippets.report import Claim, publish, table
from snippets.svg import bar_chart
from snippets.zero_copy_receive import _wire as wire
from snippets.zero_copy_receive._uring import Ring

SIZE, CHUNK = 64 << 20, 64 << 10


@dataclass
class Received:
    calls: int = 0  # receive-side system calls (the last one sees the end)
    into_user: int = 0  # bytes the kernel copied into this process's memory
    objects: int = 0  # new bytes objects made
    total: int = 0  # bytes that arrived


def by_recv(sock) -> Received:
    """Each call returns a new bytes object holding a copy of what arrived."""
    calls = got = 0
    while data := sock.recv(CHUNK):
        calls, got = calls + 1, got + len(data)
    return Received(calls + 1, got, calls, got)


def by_recv_into(sock) -> Received:
    """Each call copies into the same buffer: no new object."""
    calls = got = 0
    buf = bytearray(CHUNK)
    while n := sock.recv_into(buf):
        calls, got = calls + 1, got + n
    return Received(calls + 1, got, 0, got)


def by_io_uring(sock) -> Received:
    """IORING_OP_RECV into one buffer, one io_uring_enter per receive."""
    got, buf = 0, bytearray(CHUNK)
    with Ring() as ring:
        while n := ring.recv_into(sock.fileno(), buf):
            got += n
        return Received(ring.enters, got, 0, got)


def by_splice(sock) -> Received:
    """Socket -> pipe -> /dev/null: pages move between kernel buffers only."""
    calls = got = 0
    (pipe_r, pipe_w), null = os.pipe(), os.open(os.devnull, os.O_WRONLY)
    try:
        while n := os.splice(sock.fileno(), pipe_w, CHUNK):
            calls, got = calls + 2, got + os.splice(pipe_r, null, n)
        return Received(calls + 1, 0, 0, got)
    finally:
        for fd in (pipe_r, pipe_w, null):
            os.close(fd)


def ways(payload: bytes, file_fd: int) -> dict:
    """(sender, receiver) for each way of moving the same 64 MiB."""
    return {"sendall + recv": (wire.send_all(payload), by_recv),
            "sendall + recv_into": (wire.send_all(payload), by_recv_into),
            "sendall + io_uring recv": (wire.send_all(payload), by_io_uring),
            "sendall + splice": (wire.send_all(payload), by_splice),
            "sendfile + splice": (wire.send_file(file_fd, SIZE), by_splice)}


def measure(rounds: int = 3) -> dict:
    payload = os.urandom(1 << 20) * (SIZE >> 20)
    results: dict[str, Received] = {}

    def run(name: str, send, receive):
        with wire.connection(send) as sock:
            results[name] = receive(sock)

    with tempfile.TemporaryFile(dir="/dev/shm" if os.path.isdir("/dev/shm")
                                else None) as file:
        file.write(payload)
        file.flush()
        variants = {name: (lambda n=name, w=w: run(n, *w))
                    for name, w in ways(payload, file.fileno()).items()}
        seconds = timing.rounds(rounds, variants)
    return {"received": results, "seconds": seconds}



def ratios(r: dict, base: str = "sendall + recv") -> dict[str, list[float]]:
    """Each way's time over recv's within the same round, sorted."""
    return {k: sorted(timing.paired_ratios(r["seconds"], k, base))
            for k in r["seconds"]}


def claims(r: dict) -> list[Claim]:
    got, least = r["received"], SIZE // CHUNK + 1  # a call returns at most CHUNK
    copied = {k: v.into_user for k, v in got.items()}
    short = "; ".join(f"{k} {v >> 20}" for k, v in copied.items())
    uring = statistics.median(timing.paired_ratios(
        r["seconds"], "sendall + io_uring recv", "sendall + recv_into"))
    return [
        Claim("every way delivers all 64 MiB",
              f"{sorted({v.total >> 20 for v in got.values()})} MiB",
              all(v.total == SIZE for v in got.values())),
        Claim("recv, recv_into and io_uring recv copy all 64 MiB into user memory; "
              "splice copies none", f"MiB: {short}",
              copied == {k: 0 if "splice" in k else SIZE for k in got}),
        Claim("recv makes a new bytes object per call; recv_into and io_uring, none",
              "; ".join(f"{k} {v.objects}" for k, v in list(got.items())[:3]),
              got["sendall + recv"].objects == got["sendall + recv"].calls - 1
              and got["sendall + recv_into"].objects == 0),
        Claim(f"at least {least} receive calls for 64 MiB in 64 KiB reads, splice "
              "two per chunk (counted in-process)",
              ", ".join(str(v.calls) for v in got.values()),
              all(v.calls >= least for v in got.values())
              and all(v.calls % 2 == 1 for k, v in got.items() if "splice" in k)),
        Claim("io_uring receiving one request at a time is no faster than recv_into"
              " (median time ratio > 0.7): io_uring alone removes no copy",
              f"{uring:.2f}x", uring > 0.7, timing=True),
    ]


def main() -> None:
    checked = timing.check_timing(measure, claims)
    r, rel = checked.result, ratios(checked.result)
    print(table(["sender + receiver", "calls", "copied into user", "new objects",
                 "time / recv (median)", "(min-max)"],
                [[k, v.calls, f"{v.into_user >> 20} MiB", v.objects,
                  f"{statistics.median(rel[k]):.2f}",
                  f"{rel[k][0]:.2f}-{rel[k][-1]:.2f}"]
                 for k, v in r["received"].items()]))
    print(f"{len(rel['sendall + recv'])} interleaved rounds; calls counted in-process")
    chart = bar_chart("Time to receive 64 MiB, relative to recv (median of rounds)",
                      "time / recv", [(k, round(statistics.median(rel[k]), 2))
                                       for k in rel])
    publish(checked.claims, figures={"copies": chart})


if __name__ == "__main__":
    main()
