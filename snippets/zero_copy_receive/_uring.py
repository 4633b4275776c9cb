"""io_uring from ctypes: the three system calls and the uapi structs the demos use.

Numbers and layouts are those of include/uapi/linux/io_uring.h (x86-64 syscall
numbers). Not a demo. No compiler and no third-party package is needed.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import platform
import select
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Self

from snippets.report import HostForbids

SETUP, ENTER, REGISTER = 425, 426, 427  # __NR_io_uring_* on x86-64 and arm64
SETUP_CQE32, SETUP_SINGLE_ISSUER, SETUP_DEFER_TASKRUN = 1 << 11, 1 << 12, 1 << 13
SETUP_CQE_MIXED = 1 << 18  # 16- and 32-byte completions in one ring
ZCRX_FLAGS = SETUP_CQE32 | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN
REGISTER_ZCRX_IFQ = 32
OP_RECV, ENTER_GETEVENTS = 27, 1
CLONE_NEWUSER = 0x10000000
OFF_SQ_RING, OFF_CQ_RING, OFF_SQES = 0, 0x8000000, 0x10000000
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
U32, U64 = ctypes.c_uint32, ctypes.c_uint64


class SqOffsets(ctypes.Structure):
    _fields_ = [(n, U32) for n in ("head", "tail", "ring_mask", "ring_entries",
                                   "flags", "dropped", "array", "resv1")] + [
        ("user_addr", U64)]


class CqOffsets(ctypes.Structure):
    _fields_ = [(n, U32) for n in ("head", "tail", "ring_mask", "ring_entries",
                                   "overflow", "cqes", "flags", "resv1")] + [
        ("user_addr", U64)]


class Params(ctypes.Structure):  # struct io_uring_params
    _fields_ = [(n, U32) for n in ("sq_entries", "cq_entries", "flags",
                                   "sq_thread_cpu", "sq_thread_idle", "features",
                                   "wq_fd")] + [("resv", U32 * 3),
                                                ("sq_off", SqOffsets),
                                                ("cq_off", CqOffsets)]


class RegionDesc(ctypes.Structure):  # struct io_uring_region_desc
    _fields_ = [("user_addr", U64), ("size", U64), ("flags", U32), ("id", U32),
                ("mmap_offset", U64), ("resv", U64 * 4)]


class AreaReg(ctypes.Structure):  # struct io_uring_zcrx_area_reg
    _fields_ = [("addr", U64), ("len", U64), ("rq_area_token", U64), ("flags", U32),
                ("dmabuf_fd", U32), ("resv2", U64 * 2)]


class IfqReg(ctypes.Structure):  # struct io_uring_zcrx_ifq_reg
    _fields_ = [("if_idx", U32), ("if_rxq", U32), ("rq_entries", U32),
                ("flags", U32), ("area_ptr", U64), ("region_ptr", U64),
                ("offsets", U32 * 8), ("zcrx_id", U32), ("rx_buf_len", U32),
                ("resv", U64 * 3)]


class Sqe(ctypes.Structure):  # struct io_uring_sqe, the fields a recv uses
    _fields_ = [("opcode", ctypes.c_uint8), ("flags", ctypes.c_uint8),
                ("ioprio", ctypes.c_uint16), ("fd", ctypes.c_int32), ("off", U64),
                ("addr", U64), ("len", U32), ("msg_flags", U32), ("user_data", U64),
                ("pad", U64 * 3)]


def syscall(number: int, *args: object) -> int:
    """The raw call; raises OSError with the kernel's errno on failure."""
    ret = _libc.syscall(ctypes.c_long(number), *args)
    if ret < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return ret


def setup(entries: int, flags: int = 0) -> tuple[int, Params]:
    params = Params(flags=flags)
    return syscall(SETUP, U32(entries), ctypes.byref(params)), params


def register(fd: int, opcode: int, arg: ctypes.Structure, nr: int = 1) -> int:
    return syscall(REGISTER, ctypes.c_int(fd), U32(opcode), ctypes.byref(arg),
                   U32(nr))


class Ring:
    """A ring that runs one request at a time: a receive, then wait for it.

    The kernel copies the data into `buf`, as recv_into does; what changes is how
    the request and its completion travel (shared rings, one io_uring_enter each).
    """

    def __init__(self, entries: int = 4) -> None:
        self.fd, p = setup(entries)
        self.enters, so, co = 0, p.sq_off, p.cq_off
        try:
            self.sq = mmap.mmap(self.fd, so.array + 4 * p.sq_entries,
                                offset=OFF_SQ_RING)
            self.cq = mmap.mmap(self.fd, co.cqes + 16 * p.cq_entries,
                                offset=OFF_CQ_RING)
            self.sqes = mmap.mmap(self.fd, 64 * p.sq_entries, offset=OFF_SQES)
        except BaseException:
            self.close()
            raise
        self.so, self.co = so, co
        self.sq_mask = self._u32(self.sq, so.ring_mask)
        self.cq_mask = self._u32(self.cq, co.ring_mask)

    @staticmethod
    def _u32(area: mmap.mmap, offset: int) -> int:
        return int.from_bytes(area[offset:offset + 4], "little")

    @staticmethod
    def _put(area: mmap.mmap, offset: int, value: int) -> None:
        area[offset:offset + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")

    def recv_into(self, sock_fd: int, buf: bytearray) -> int:
        """IORING_OP_RECV into buf; returns the bytes received (0 at end of stream)."""
        tail = self._u32(self.sq, self.so.tail)
        index = tail & self.sq_mask
        view = (ctypes.c_char * len(buf)).from_buffer(buf)
        sqe = Sqe(opcode=OP_RECV, fd=sock_fd, addr=ctypes.addressof(view),
                  len=len(buf), user_data=tail)
        self.sqes[64 * index:64 * index + 64] = bytes(sqe)
        self._put(self.sq, self.so.array + 4 * index, index)
        self._put(self.sq, self.so.tail, tail + 1)  # x86: stores are not reordered
        syscall(ENTER, ctypes.c_int(self.fd), U32(1), U32(1), U32(ENTER_GETEVENTS),
                None, ctypes.c_size_t(0))
        self.enters += 1
        head = self._u32(self.cq, self.co.head)
        cqe = self.co.cqes + 16 * (head & self.cq_mask)
        res = int.from_bytes(self.cq[cqe + 8:cqe + 12], "little", signed=True)
        self._put(self.cq, self.co.head, head + 1)
        del view
        if res < 0:
            raise OSError(-res, os.strerror(-res))
        return res

    def close(self) -> None:
        for name in ("sq", "cq", "sqes"):
            if hasattr(self, name):
                getattr(self, name).close()
        os.close(self.fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def host() -> dict:
    """The kernel's release and version, whether io_uring is allowed, and whether
    this process has CAP_NET_ADMIN where the kernel checks it (capable(): in the
    initial user namespace, whose uid_map maps every id to itself)."""
    release = platform.release()
    disabled = Path("/proc/sys/kernel/io_uring_disabled")
    caps = Path("/proc/self/status").read_text().split("CapEff:")[1].split()[0]
    initial = Path("/proc/self/uid_map").read_text().split() == ["0", "0",
                                                                 "4294967295"]
    return {"release": release,
            "version": tuple(int(x) for x in release.split("-")[0].split(".")[:2]),
            "io_uring_disabled": disabled.read_text().strip()
            if disabled.exists() else "absent",
            "net_admin": initial and bool(int(caps, 16) >> 12 & 1)}  # bit 12


def in_user_namespace(ask: Callable[[], int], timeout: float = 5.0) -> int:
    """ask() run by a child in a new user namespace (root there, not outside): its
    answer; HostForbids where there was none (the host may forbid user namespaces)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            if _libc.unshare(CLONE_NEWUSER) != 0:
                code = errno.errorcode[ctypes.get_errno()]
                os.write(w, f"unshare(CLONE_NEWUSER): {code}".encode())
            else:
                os.write(w, str(ask()).encode())
        finally:
            os._exit(0)
    os.close(w)
    ready = []
    try:
        ready = select.select([r], [], [], timeout)[0]
        answer = os.read(r, 100).decode() if ready else "no answer in time"
    finally:
        os.close(r)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not answer.lstrip("-").isdigit():
        raise HostForbids(f"no user namespace here ({answer})")
    return int(answer)
