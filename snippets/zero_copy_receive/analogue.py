"""A userspace ANALOGUE (a model), not the kernel feature: 64 MiB reach a consumer
through shared memory while only 8-byte descriptors cross the socket, and each buffer
returns through a refill message, as zero-copy receive's refill queue returns them."""

from __future__ import annotations

import mmap
import os
import signal
import socket
import struct
import time
import traceback
import zlib
from dataclasses import dataclass, field

from snippets.report import (
    Claim,
    MissingTool,
    NotMeasurable,
    check,
    equals,
    publish,
    publish_unmeasured,
    table,
)
from snippets.zero_copy_receive._wire import bounded

SIZE, CHUNK, BUFFERS = 64 << 20, 64 << 10, 16  # a 1 MiB area of 16 buffers
DESC, REFILL, END = struct.Struct("II"), struct.Struct("I"), 0xFFFFFFFF
CHUNKS = SIZE // CHUNK
COUNTERS = "/proc/thread-self/io"  # this thread's I/O, as the kernel counts it

INTACT = check("analogue-intact", "in the model, both ways deliver all 64 MiB, intact "
               "(the same CRC-32 at both ends): {bound}", equals([64, 64]),
               unit="MiB")
BY_COPY = check("analogue-copy-crossed", "in the model, by copy every byte crosses "
                "the socket: the consumer's reads and writes move {bound} (64 MiB "
                "and the end marker), as the kernel counts them",
                equals(SIZE + DESC.size), unit="bytes")
BY_DESC = check("analogue-descriptors-crossed", f"in the model, by descriptor only "
                f"{CHUNKS:,} descriptors of {DESC.size} bytes, {CHUNKS:,} refills of "
                f"{REFILL.size} and the end marker cross it: {{bound}}, as the kernel"
                " counts them", equals(CHUNKS * (DESC.size + REFILL.size) + DESC.size),
                unit="bytes")
REUSED = check("analogue-buffers-reused", f"in the model, {BUFFERS} buffers "
               f"({BUFFERS * CHUNK >> 20} MiB) carry all 64 MiB: each comes back and"
               " is named {bound} times", equals([CHUNKS // BUFFERS]))
CLAIMS = [INTACT, BY_COPY, BY_DESC, REUSED]


@dataclass
class Path:
    crossed: int = 0  # bytes the consumer's reads and writes moved through the socket
    delivered: int = 0  # bytes of data the consumer read
    uses: dict = field(default_factory=dict)  # buffer number -> times it was named
    intact: bool = False  # the consumer's CRC-32 equals the producer's


def counters() -> tuple[int, int]:
    """Bytes this thread's read- and write-family calls moved so far (rchar + wchar),
    and the length of this very read, which the kernel adds to rchar after it."""
    try:
        fd = os.open(COUNTERS, os.O_RDONLY)
    except FileNotFoundError:
        raise MissingTool("this kernel keeps no per-task I/O counters "
                          "(CONFIG_TASK_IO_ACCOUNTING)") from None
    try:
        text = os.read(fd, 4096)
    finally:
        os.close(fd)
    fields = dict(line.split(b": ") for line in text.splitlines())
    return int(fields[b"rchar"]) + int(fields[b"wchar"]), len(text)


def produce(sock: socket.socket, by_copy: bool, pattern: bytes) -> None:
    """The child: like a NIC, put the data somewhere, then say where it is."""
    crc, free = 0, list(range(BUFFERS))
    area_fd = os.memfd_create("zcrx-analogue-area")
    os.ftruncate(area_fd, BUFFERS * CHUNK)
    with mmap.mmap(area_fd, BUFFERS * CHUNK) as area:
        socket.send_fds(sock, [b"area"], [area_fd])
        for i in range(CHUNKS):
            data = pattern[(i % BUFFERS) * CHUNK:][:CHUNK]
            crc = zlib.crc32(data, crc)
            if by_copy:
                sock.sendall(data)
                continue
            if not free:  # every buffer is with the consumer: wait for one back
                free.append(REFILL.unpack(sock.recv(REFILL.size))[0])
            slot = free.pop(0)
            area[slot * CHUNK:(slot + 1) * CHUNK] = data
            sock.sendall(DESC.pack(slot, len(data)))
    sock.sendall(DESC.pack(END, crc))
    while sock.recv(REFILL.size):  # read the last refills until the consumer closes:
        pass  # a Unix socket closed with unread data resets its peer (ECONNRESET)


def consume(sock: socket.socket, by_copy: bool) -> Path:
    """The parent: read the data where the descriptors say, or as copies."""
    path, crc, buf, fd = Path(), 0, bytearray(CHUNK), sock.fileno()
    _, (area_fd,), _, _ = socket.recv_fds(sock, 16, 1)
    before, own = counters()
    with mmap.mmap(area_fd, BUFFERS * CHUNK) as area, memoryview(area) as view:
        os.close(area_fd)
        while by_copy and path.delivered < SIZE:  # each message is a copy
            n = os.readv(fd, [buf])
            crc = zlib.crc32(memoryview(buf)[:n], crc)
            path.delivered += n
        while True:
            slot, length = DESC.unpack(os.read(fd, DESC.size))
            if slot == END:
                path.intact = length == crc
                break
            crc = zlib.crc32(view[slot * CHUNK:slot * CHUNK + length], crc)
            path.delivered += length
            path.uses[slot] = path.uses.get(slot, 0) + 1
            os.write(fd, REFILL.pack(slot))  # done with it: the buffer goes back
    path.crossed = counters()[0] - before - own
    return path


def run(by_copy: bool, pattern: bytes) -> Path:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    theirs.settimeout(10)
    pid = os.fork()
    if pid == 0:  # the producer
        code = 1
        try:
            ours.close()
            produce(theirs, by_copy, pattern)
            code = 0
        except BaseException:  # noqa: BLE001 - say why, then exit non-zero
            traceback.print_exc()
        finally:
            os._exit(code)
    theirs.close()
    try:
        with bounded(ours):  # blocking, for os.read and os.write
            return consume(ours, by_copy)
    finally:
        reap(pid)


def reap(pid: int, timeout: float = 5.0) -> None:
    """Wait for the producer to exit (bounded), else kill it; never leave it."""
    deadline = time.monotonic() + timeout
    while os.waitpid(pid, os.WNOHANG)[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.005)


def measure() -> dict[str, Path]:
    counters()  # raises MissingTool before any producer starts, if it must
    pattern = os.urandom(BUFFERS * CHUNK)
    return {"copies over the socket": run(True, pattern),
            "descriptors over the socket": run(False, pattern)}


def claims(r: dict[str, Path]) -> list[Claim]:
    copy, desc = r["copies over the socket"], r["descriptors over the socket"]
    return [INTACT.of([p.delivered >> 20 if p.intact else 0 for p in (copy, desc)]),
            BY_COPY.of(copy.crossed), BY_DESC.of(desc.crossed),
            REUSED.of(sorted(set(desc.uses.values())),
                      detail=f"{len(desc.uses)} buffers")]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(CLAIMS, why)
    print("A userspace ANALOGUE of zero-copy receive, not the kernel feature:")
    print(table(["path", "bytes across the socket", "bytes delivered", "intact"],
                [[k, f"{v.crossed:,}", f"{v.delivered:,}", "yes" if v.intact else "no"]
                 for k, v in r.items()]))
    print("bytes across: the consumer's reads and writes, from /proc/thread-self/io")
    publish(claims(r))


if __name__ == "__main__":
    main()
