"""Ask this kernel for a zero-copy receive queue on `lo`: each refusal names a check."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import socket

from snippets.report import (
    Claim,
    HostForbids,
    NotMeasurable,
    equals,
    finding,
    publish,
    table,
)
from snippets.zero_copy_receive import _uring as uring

FLAGS = finding("flags-required", "a ring without DEFER_TASKRUN and CQE32 gets "
                "{bound}", equals("EINVAL"))
BUILT_IN = finding("zcrx-built-in", "a missing ifindex gets {bound}: every check "
                   "before the device lookup passed, so zero-copy receive is built "
                   "into this kernel", equals("ENODEV"))
NO_DEVICE = finding("lo-refused", "lo gets {bound}: it has no hardware device to "
                    "receive into", equals("EOPNOTSUPP"))
CAPABILITY = finding("capability-first", "without CAP_NET_ADMIN both rings get "
                     "{bound}: the capability is checked before the ring's flags",
                     equals("EPERM"))
CLAIMS = [FLAGS, BUILT_IN, NO_DEVICE, CAPABILITY]


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
    try:  # root there, not in the initial namespace
        userns = {"zero-copy ring, lo": uring.in_user_namespace(
                      lambda: ask(lo, uring.ZCRX_FLAGS)),
                  "ring without DEFER_TASKRUN/CQE32, lo": uring.in_user_namespace(
                      lambda: ask(lo, 0))}
    except HostForbids as why:
        userns = why  # what the capability claim says instead of a verdict
    return {
        **uring.host(),
        "asks": {
            "ring without DEFER_TASKRUN/CQE32, lo": ask(lo, 0),
            "zero-copy ring, missing ifindex": ask(missing, uring.ZCRX_FLAGS),
            "zero-copy ring, lo": ask(lo, uring.ZCRX_FLAGS),
        },
        "in a user namespace": userns,
    }


def name(code: int) -> str:
    """The answer as the table shows it: accepted, or an errno and its number."""
    if code == 0:
        return "accepted"
    where = "io_uring_setup: " if code < 0 else ""
    code = abs(code)
    label = "EOPNOTSUPP" if code == errno.EOPNOTSUPP else errno.errorcode[code]
    return f"{where}{label} ({code})"


def answer(*codes: int) -> str:
    """The errno names given, once each: "EPERM" when every ask got EPERM."""
    return ", ".join(sorted({name(c).split(" (")[0] for c in codes}))


def claims(r: dict) -> list[Claim]:
    asks, userns = r["asks"], r["in a user namespace"]
    plain, missing, lo = asks.values()
    seen = ", ".join(name(v) for v in asks.values())
    why = None
    if min(asks.values()) < 0:
        why = HostForbids(f"io_uring_setup refused ({name(lo)}; "
                          f"kernel.io_uring_disabled = {r['io_uring_disabled']})")
    elif r["version"] < (6, 15):
        why = NotMeasurable(f"Linux {r['release']} predates zero-copy receive (merged "
                            f"for 6.15); it answered {seen}")
    elif missing == errno.EOPNOTSUPP:
        why = NotMeasurable(f"Linux {r['release']} was built without "
                            f"CONFIG_IO_URING_ZCRX; it answered {seen}")
    if why:
        return [e.not_checked(why) for e in CLAIMS]
    if not r["net_admin"]:  # this process is the one without the capability
        stopped = HostForbids(f"this process lacks CAP_NET_ADMIN: every ask stops "
                              f"at the capability check ({seen})")
        return [e.not_checked(stopped) for e in (FLAGS, BUILT_IN, NO_DEVICE)] + [
            CAPABILITY.of(answer(plain, lo), "this process")]
    out = [FLAGS.of(answer(plain)), BUILT_IN.of(answer(missing)),
           NO_DEVICE.of(answer(lo))]
    if isinstance(userns, NotMeasurable):
        return out + [CAPABILITY.not_checked(userns)]
    if min(userns.values()) < 0:  # no ring there: the ask never reached the check
        return out + [CAPABILITY.not_checked(HostForbids(
            f"no io_uring in a user namespace here ({name(min(userns.values()))})"))]
    return out + [CAPABILITY.of(answer(*userns.values()),
                                "in a user namespace (root there, not outside)")]


def main() -> None:
    r = measure()
    print(f"Linux {r['release']}, kernel.io_uring_disabled = {r['io_uring_disabled']}"
          f", CAP_NET_ADMIN: {'yes' if r['net_admin'] else 'no'}")
    rows = [[k, name(v)] for k, v in r["asks"].items()]
    userns = r["in a user namespace"]
    rows += ([[f"user namespace, {k}", name(v)] for k, v in userns.items()]
             if isinstance(userns, dict) else [["user namespace", "none here"]])
    print(table(["IORING_REGISTER_ZCRX_IFQ asked with", "answer"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
