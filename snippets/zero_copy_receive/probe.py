"""Ask this kernel for a zero-copy receive queue on `lo`: each refusal names a check."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import socket

from snippets.report import Claim, publish, table
from snippets.zero_copy_receive import _uring as uring


def ask(if_idx: int, ring_flags: int) -> int:
    """0 if the kernel set up the queue, else its errno (io_uring_setup's if that)."""
    area = mmap.mmap(-1, 16 * mmap.PAGESIZE)  # page-aligned memory to receive into
    view = ctypes.c_char.from_buffer(area)
    try:
        fd, _ = uring.setup(4, ring_flags)
    except OSError as error:
        del view
        area.close()
        return -error.errno  # negative: the ring itself was refused
    area_reg = uring.AreaReg(addr=ctypes.addressof(view), len=len(area))
    region = uring.RegionDesc(size=mmap.PAGESIZE)  # the refill queue's ring
    reg = uring.IfqReg(if_idx=if_idx, if_rxq=0, rq_entries=4,
                       area_ptr=ctypes.addressof(area_reg),
                       region_ptr=ctypes.addressof(region))
    try:
        uring.register(fd, uring.REGISTER_ZCRX_IFQ, reg)
        return 0
    except OSError as error:
        return error.errno
    finally:
        os.close(fd)
        del view
        area.close()


def measure() -> dict:
    lo = socket.if_nametoindex("lo")
    missing = max(i for i, _ in socket.if_nameindex()) + 1000
    return {
        **uring.host(),
        "asks": {
            "ring without DEFER_TASKRUN/CQE32, lo": ask(lo, 0),
            "zero-copy ring, missing ifindex": ask(missing, uring.ZCRX_FLAGS),
            "zero-copy ring, lo": ask(lo, uring.ZCRX_FLAGS),
        },
        "in a user namespace": {  # root there, not in the initial namespace
            "zero-copy ring, lo": uring.in_user_namespace(
                lambda: ask(lo, uring.ZCRX_FLAGS)),
            "ring without DEFER_TASKRUN/CQE32, lo": uring.in_user_namespace(
                lambda: ask(lo, 0)),
        },
    }


def name(code: int | str) -> str:
    if isinstance(code, str):
        return code
    if code == 0:
        return "accepted"
    where = "io_uring_setup: " if code < 0 else ""
    code = abs(code)
    label = "EOPNOTSUPP" if code == errno.EOPNOTSUPP else errno.errorcode[code]
    return f"{where}{label} ({code})"


def claims(r: dict) -> list[Claim]:
    asks, userns = r["asks"], r["in a user namespace"]
    plain, missing, lo = asks.values()
    seen = ", ".join(f"{k}: {name(v)}" for k, v in asks.items())
    expect = {"missing": errno.ENODEV, "lo": errno.EOPNOTSUPP, "plain": errno.EINVAL}
    if min(asks.values()) < 0:
        why = (f"io_uring_setup refused ({name(lo)}; "
               f"kernel.io_uring_disabled = {r['io_uring_disabled']})")
        return [Claim.not_checked("the kernel answers a zero-copy receive request",
                                  why, seen)]
    if r["version"] < (6, 15):
        return [Claim(f"Linux {r['release']} predates zero-copy receive (merged for "
                      "6.15): register opcode 32 is unknown, EINVAL every time", seen,
                      set(asks.values()) == {errno.EINVAL})]
    if not r["net_admin"]:
        return [Claim("without CAP_NET_ADMIN every request is refused with EPERM",
                      seen, set(asks.values()) == {errno.EPERM})]
    if missing == errno.EOPNOTSUPP:
        return [Claim.not_checked("a missing ifindex gets as far as the device lookup",
                                  f"Linux {r['release']} was built without "
                                  "CONFIG_IO_URING_ZCRX: every request EOPNOTSUPP",
                                  seen)]
    out = [Claim("a missing ifindex gets ENODEV: every check before the device "
                 "lookup passed, so zero-copy receive is built into this kernel",
                 name(missing), missing == expect["missing"]),
           Claim("lo gets EOPNOTSUPP: it has no hardware device to receive into",
                 name(lo), lo == expect["lo"]),
           Claim("a ring without DEFER_TASKRUN and CQE32 gets EINVAL", name(plain),
                 plain == expect["plain"])]
    statement = ("in a new user namespace (root there, not in the initial one) both "
                 "rings get EPERM: the capability is checked before the ring's flags")
    refused = [v for v in userns.values() if isinstance(v, str)]
    if refused:
        out.append(Claim.not_checked(statement,
                                     f"no user namespace here ({refused[0]})"))
    else:
        out.append(Claim(statement, ", ".join(name(v) for v in userns.values()),
                         set(userns.values()) == {errno.EPERM}))
    return out


def main() -> None:
    r = measure()
    print(f"Linux {r['release']}, kernel.io_uring_disabled = {r['io_uring_disabled']}"
          f", CAP_NET_ADMIN: {'yes' if r['net_admin'] else 'no'}")
    rows = [[k, name(v)] for k, v in r["asks"].items()]
    rows += [[f"user namespace, {k}", name(v)]
             for k, v in r["in a user namespace"].items()]
    print(table(["IORING_REGISTER_ZCRX_IFQ asked with", "answer"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
