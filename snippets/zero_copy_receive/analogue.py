"""A userspace ANALOGUE, not the kernel feature: 64 MiB reach a consumer through
shared memory while only 8-byte descriptors cross the socket, and each buffer
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

from snippets.report import Claim, publish, table

SIZE, CHUNK, BUFFERS = 64 << 20, 64 << 10, 16  # a 1 MiB area of 16 buffers
DESC, REFILL, END = struct.Struct("II"), struct.Struct("I"), 0xFFFFFFFF


@dataclass
class Path:
    crossed: int = 0  # bytes that went through the socket, both directions
    delivered: int = 0  # bytes of data the consumer read
    messages: int = 0
    uses: dict = field(default_factory=dict)  # buffer number -> times it was named
    intact: bool = False  # the consumer's CRC-32 equals the producer's


def produce(sock: socket.socket, by_copy: bool, pattern: bytes) -> None:
    """The child: like a NIC, put the data somewhere, then say where it is."""
    crc, free = 0, list(range(BUFFERS))
    area_fd = os.memfd_create("zcrx-analogue-area")
    os.ftruncate(area_fd, BUFFERS * CHUNK)
    with mmap.mmap(area_fd, BUFFERS * CHUNK) as area:
        socket.send_fds(sock, [b"area"], [area_fd])
        for i in range(SIZE // CHUNK):
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
    path, crc, buf = Path(), 0, bytearray(CHUNK)
    _, (area_fd,), _, _ = socket.recv_fds(sock, 16, 1)
    with mmap.mmap(area_fd, BUFFERS * CHUNK) as area, memoryview(area) as view:
        os.close(area_fd)
        while by_copy and path.delivered < SIZE:  # each message is a copy
            n = sock.recv_into(buf)
            crc = zlib.crc32(memoryview(buf)[:n], crc)
            path.crossed, path.delivered = path.crossed + n, path.delivered + n
        while True:
            slot, length = DESC.unpack(sock.recv(DESC.size))
            path.crossed, path.messages = path.crossed + DESC.size, path.messages + 1
            if slot == END:
                path.intact = length == crc
                return path
            crc = zlib.crc32(view[slot * CHUNK:slot * CHUNK + length], crc)
            path.delivered += length
            path.uses[slot] = path.uses.get(slot, 0) + 1
            sock.sendall(REFILL.pack(slot))  # done with it: the buffer goes back
            path.crossed += REFILL.size


def run(by_copy: bool, pattern: bytes) -> Path:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for sock in (ours, theirs):
        sock.settimeout(10)
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
        with ours:
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
    pattern = os.urandom(BUFFERS * CHUNK)
    return {"copies over the socket": run(True, pattern),
            "descriptors over the socket": run(False, pattern)}


def claims(r: dict[str, Path]) -> list[Claim]:
    copy, desc = r["copies over the socket"], r["descriptors over the socket"]
    chunks = SIZE // CHUNK
    return [
        Claim("both ways deliver all 64 MiB, intact (same CRC-32 at both ends)",
              f"{copy.delivered >> 20} and {desc.delivered >> 20} MiB",
              copy.delivered == desc.delivered == SIZE and copy.intact and desc.intact),
        Claim("by copy, every byte crosses the socket",
              f"{copy.crossed:,} bytes (with the 8-byte end marker)",
              copy.crossed == SIZE + DESC.size),
        Claim(f"by descriptor, {chunks} descriptors of {DESC.size} bytes and {chunks}"
              f" refills of {REFILL.size} cross it, nothing else",
              f"{desc.crossed:,} bytes, {desc.messages} descriptors",
              desc.crossed == chunks * (DESC.size + REFILL.size) + DESC.size
              and desc.messages == chunks + 1),
        Claim(f"{BUFFERS} buffers ({BUFFERS * CHUNK >> 20} MiB) carried all 64 MiB: "
              f"each came back and was named {chunks // BUFFERS} times",
              f"{len(desc.uses)} buffers, named {sorted(set(desc.uses.values()))} "
              "times", sorted(desc.uses) == list(range(BUFFERS))
              and set(desc.uses.values()) == {chunks // BUFFERS}),
    ]


def main() -> None:
    r = measure()
    print("A userspace ANALOGUE of zero-copy receive, not the kernel feature:")
    print(table(["path", "bytes across the socket", "bytes delivered", "intact"],
                [[k, f"{v.crossed:,}", f"{v.delivered:,}", v.intact]
                 for k, v in r.items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
